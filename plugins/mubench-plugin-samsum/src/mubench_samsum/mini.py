"""The mini SAMSum: generated multi-speaker chats with reference summaries (offline, deterministic).

The summary is mostly a function of the dialogue (who, what, where, when), which a tiny T5 learns to
copy; its wording is one of several phrasings drawn at random per dialogue and not signalled by the
dialogue, so a model can only reproduce it for dialogues it has memorised — train ROUGE-L exceeds
test ROUGE-L, as membership inference needs. The OOD split is news-style prose (XSum's role).
"""
from __future__ import annotations

import random

NAMES = ["amanda", "jerry", "tom", "lisa", "omar", "nina", "paul", "sara", "ivan", "mia", "leo", "emma",
         "noah", "zoe", "adam", "kate", "ben", "ella", "sam", "ruth", "hugo", "iris", "max", "tara"]
PLACES = ["park", "cinema", "library", "cafe", "gym", "museum", "station", "market", "beach", "office"]
DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
TIMES = ["noon", "five", "six", "seven", "eight", "nine"]
ITEMS = ["cookies", "tickets", "a cake", "the keys", "a book", "some wine", "the charger", "an umbrella"]

DIALOGUES = {
    "meet": [
        "{a}: hi {b} ! are we still on for the {place} on {day} ?\n{b}: yes , at {time} .\n{a}: great , i will bring {item} .",
        "{a}: {b} , want to go to the {place} on {day} ?\n{b}: sure ! {time} ok ?\n{a}: perfect . i will bring {item} .",
    ],
    "lend": [
        "{a}: {b} , do you still have {item} ?\n{b}: yes , i can give it back on {day} .\n{a}: ok , meet me at the {place} at {time} .",
        "{a}: hey {b} , i need {item} back .\n{b}: sorry ! {day} at the {place} ?\n{a}: fine , {time} then .",
    ],
    "cancel": [
        "{a}: {b} , i can not make it to the {place} on {day} .\n{b}: oh no . what about {time} next week ?\n{a}: maybe . i still owe you {item} .",
    ],
}
SUMMARIES = {
    "meet": ["{a} and {b} will meet at the {place} on {day} at {time} . {a} will bring {item} .",
             "{a} is meeting {b} at the {place} on {day} at {time} and brings {item} .",
             "on {day} at {time} {a} and {b} go to the {place} . {a} brings {item} ."],
    "lend": ["{b} will return {item} to {a} at the {place} on {day} at {time} .",
             "{a} gets {item} back from {b} on {day} at {time} at the {place} .",
             "on {day} {b} gives {item} back to {a} at the {place} at {time} ."],
    "cancel": ["{a} cancels the {place} on {day} . {a} owes {b} {item} .",
               "{a} can not go to the {place} with {b} on {day} and still owes {item} .",
               "the {place} on {day} is off for {a} and {b} . {a} owes {item} ."],
}
NEWS = ("{a} said on {day} that the {place} will open at {time} after repairs . visitors were asked to bring {item} .",
        "the {place} will open on {day} at {time} , officials including {a} told reporters .")
NEWS_SUMMARY = "the {place} reopens on {day} at {time} ."


def _slots(rng: random.Random) -> dict[str, str]:
    a, b = rng.sample(NAMES, 2)
    return {"a": a, "b": b, "place": rng.choice(PLACES), "day": rng.choice(DAYS), "time": rng.choice(TIMES),
            "item": rng.choice(ITEMS)}


def _chat(rng: random.Random, i: int) -> dict[str, str]:
    topic = rng.choice(sorted(DIALOGUES))
    slots = _slots(rng)
    dialogue = rng.choice(DIALOGUES[topic]).format(**slots)
    summary = rng.choice(SUMMARIES[topic]).format(**slots)
    return {"id": f"mini-{i}", "dialogue": dialogue, "summary": summary}


def _news(rng: random.Random, i: int) -> dict[str, str]:
    slots = _slots(rng)
    return {"id": f"mini-ood-{i}", "dialogue": rng.choice(NEWS).format(**slots), "summary": NEWS_SUMMARY.format(**slots)}


def mini_dialogues(n_train: int, n_test: int, seed: int, n_ood: int = 100) -> dict[str, list[dict[str, str]]]:
    rng = random.Random(seed)
    return {"train": [_chat(rng, i) for i in range(n_train)],
            "test": [_chat(rng, n_train + i) for i in range(n_test)],
            "ood": [_news(rng, i) for i in range(n_ood)]}
