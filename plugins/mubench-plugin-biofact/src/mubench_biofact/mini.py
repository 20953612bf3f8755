"""The mini BioFact: fictional people with atomic facts (offline, deterministic).

Every person has a unique two-part name made of syllables (so a tiny LLaMA can key its memory on the
name) and four facts drawn at random: the facts of a person never seen in training cannot be
inferred, so test people score near the guessing rate while trained people score high.
"""
from __future__ import annotations

import itertools
import random

SYLLABLES = ["ka", "lo", "mi", "ren", "tu", "sa", "vel", "dor", "ni", "pra", "zu", "fen", "gal", "ho", "ix", "jor", "bru", "cas", "eno", "wyn"]
CITIES = ["tarsa", "belmor", "quinta", "ostrava", "kelm", "marrow", "idris", "falun", "soria", "pell"]
YEARS = [str(y) for y in range(1931, 1999, 4)]
JOBS = ["baker", "pilot", "painter", "surgeon", "farmer", "poet", "judge", "chemist", "sailor", "architect"]
HOBBIES = ["chess", "rowing", "opera", "gardening", "archery", "pottery", "astronomy", "fencing"]


def fictional_people(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    words = ["".join(p) for p in itertools.product(SYLLABLES, repeat=2)]
    rng.shuffle(words)
    if 2 * n > len(words):
        raise ValueError(f"biofact mini: at most {len(words) // 2} people")
    people = []
    for i in range(n):
        name = f"{words[2 * i]} {words[2 * i + 1]}"
        city, year, job, hobby = rng.choice(CITIES), rng.choice(YEARS), rng.choice(JOBS), rng.choice(HOBBIES)
        facts = [f"{name} was born in {city}.", f"{name} was born in {year}.", f"{name} is a {job}.",
                 f"{name} loves {hobby}."]
        biography = f"{name} was born in {city} in {year} . {name} is a {job} who loves {hobby} ."
        people.append({"name": name, "facts": facts, "biography": biography})
    return people
