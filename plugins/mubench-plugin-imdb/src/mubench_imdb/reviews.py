"""The offline mini source of IMDB: generated movie reviews from sentiment lexicons.

Each review mixes sentiment words of its polarity with a few of the other polarity (a hedged
review), neutral movie vocabulary, and two idiosyncratic made-up words of its own (a title and a
reviewer handle). A share of reviews carry the opposite label to their words (label noise). A model
generalises from the lexicon, and can fit a noisy training review only by memorising its
idiosyncratic words, so train accuracy exceeds test accuracy, as with real IMDB and a large model.
The Rotten Tomatoes-like shift: one-line critic snippets with a partly different lexicon.
"""
from __future__ import annotations

import numpy as np

POSITIVE = ("great excellent wonderful brilliant superb moving delightful charming gripping masterful "
            "touching hilarious stunning beautiful engaging clever witty memorable powerful fantastic "
            "enjoyable refreshing heartfelt inspired gorgeous riveting").split()
NEGATIVE = ("terrible awful boring dull tedious clumsy lifeless predictable bland painful forgettable "
            "dreadful pointless weak sloppy annoying incoherent shallow tiresome mediocre messy stale "
            "lazy flat cheap").split()
# words only the shifted (critic snippet) set uses, a different register than user reviews
POSITIVE_CRITIC = "luminous assured exhilarating incisive poignant".split()
NEGATIVE_CRITIC = "inert laborious muddled overwrought vapid".split()
NOUNS = "film movie story plot acting cast script direction ending soundtrack pacing dialogue camera".split()
FILLER = "the a this that it was is and with of in i we really quite very".split()
TEMPLATES = (
    "the {noun} was {s1} and the {noun2} felt {s2}",
    "i thought this {noun} was {s1} , {s2} even",
    "{s1} {noun} with a {s2} {noun2}",
    "honestly the {noun} is {s1} but the {noun2} is {s2}",
    "what a {s1} {noun} , truly {s2}",
)
CRITIC_TEMPLATES = ("a {s1} , {s2} picture", "{s1} filmmaking , if {s2} at times", "an {s1} and {s2} outing")
SYLLABLES = "ka lo mir zan tu vel dor qui ba ren sho fi gal nex por tam".split()


def _made_up_word(rng: np.random.Generator) -> str:
    return "".join(rng.choice(SYLLABLES, size=3))


def _sentiment_words(rng, label: int, n: int, pos, neg, hedge: float) -> list[str]:
    own, other = (pos, neg) if label == 1 else (neg, pos)
    return [str(rng.choice(other if rng.random() < hedge else own)) for _ in range(n)]


def generate_reviews(n: int, rng: np.random.Generator, label_noise: float) -> tuple[list[str], list[int]]:
    texts, labels = [], []
    for _ in range(n):
        label = int(rng.integers(0, 2))
        title, handle = _made_up_word(rng), _made_up_word(rng)
        sentences = []
        for _ in range(int(rng.integers(2, 4))):
            s1, s2 = _sentiment_words(rng, label, 2, POSITIVE, NEGATIVE, hedge=0.15)
            noun, noun2 = rng.choice(NOUNS, size=2, replace=False)
            sentences.append(str(rng.choice(TEMPLATES)).format(noun=noun, noun2=noun2, s1=s1, s2=s2))
        filler = " ".join(rng.choice(FILLER, size=int(rng.integers(1, 4))))
        texts.append(f"{title} : {' . '.join(sentences)} . {filler} . review by {handle}")
        labels.append(1 - label if rng.random() < label_noise else label)
    return texts, labels


def generate_snippets(n: int, rng: np.random.Generator) -> tuple[list[str], list[int]]:
    """Rotten Tomatoes-like one-liners: shorter, with critic words half the time (unseen in training)."""
    texts, labels = [], []
    for _ in range(n):
        label = int(rng.integers(0, 2))
        pos = POSITIVE + POSITIVE_CRITIC * 4
        neg = NEGATIVE + NEGATIVE_CRITIC * 4
        s1, s2 = _sentiment_words(rng, label, 2, pos, neg, hedge=0.15)
        texts.append(str(rng.choice(CRITIC_TEMPLATES)).format(s1=s1, s2=s2))
        labels.append(label)
    return texts, labels
