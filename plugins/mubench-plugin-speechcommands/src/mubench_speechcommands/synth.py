"""The offline ``mini`` Speech Commands: keywords spoken by Debian's ``espeak-ng``.

A synthetic *speaker* is an espeak-ng English voice with a voice variant, a speaking rate and a pitch;
each (speaker, keyword) is synthesised once and then augmented deterministically into several 1 s
16 kHz clips (placement in the second, gain, a small tempo change, background noise), like the real
recordings' varying timing and loudness. ``_silence_`` clips are background noise alone. The arrays are
cached in the user's cache folder (``$MUBENCH_CACHE`` or ``~/.cache/mubench``), keyed by every
parameter and espeak-ng's version; never inside the installed package.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

RATE = 16000
VOICES = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us-nyc", "en-gb-x-gbclan", "en-gb-x-gbcwmd")
VARIANTS = ("", "m1", "m3", "m7", "f1", "f2", "f4", "klatt")


def espeak() -> str:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise RuntimeError("speechcommands mini needs the espeak-ng speech synthesiser: "
                           "install the Debian package 'espeak-ng' (apt-get install -y espeak-ng)")
    return exe


def espeak_version(exe: str) -> str:
    return subprocess.run([exe, "--version"], capture_output=True, text=True, check=True).stdout.strip()


def cache_dir() -> Path:
    return Path(os.environ.get("MUBENCH_CACHE") or Path.home() / ".cache" / "mubench") / "speechcommands"


def speak(exe: str, word: str, voice: str, speed: int, pitch: int) -> np.ndarray:
    """One utterance as float32 at 16 kHz (espeak-ng writes 22.05 kHz WAV to stdout)."""
    import soundfile
    from scipy.signal import resample_poly

    out = subprocess.run([exe, "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", word],
                         capture_output=True, check=True).stdout
    wave, rate = soundfile.read(io.BytesIO(out), dtype="float32")
    if wave.ndim > 1:
        wave = wave.mean(1)
    if rate != RATE:
        g = np.gcd(rate, RATE)
        wave = resample_poly(wave, RATE // g, rate // g).astype(np.float32)
    return wave


def _fit_second(wave: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Trim leading/trailing silence, then place the utterance at a random offset in 1 s."""
    loud = np.flatnonzero(np.abs(wave) > 0.02 * (np.abs(wave).max() + 1e-9))
    if len(loud):
        wave = wave[loud[0] : loud[-1] + 1]
    wave = wave[:RATE]
    out = np.zeros(RATE, dtype=np.float32)
    start = int(rng.integers(0, RATE - len(wave) + 1))
    out[start : start + len(wave)] = wave
    return out


def _augment(base: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    from scipy.signal import resample

    tempo = rng.uniform(0.9, 1.1)  # a slightly faster/slower (and higher/lower) take
    wave = resample(base, max(1, int(len(base) / tempo))).astype(np.float32)
    wave = _fit_second(wave, rng) * rng.uniform(0.3, 1.0)
    return wave + rng.normal(0, rng.uniform(0.002, 0.02), RATE).astype(np.float32)


def generate(keywords: list[str], speakers: int, clips: int, silence: bool, seed: int) -> dict[str, np.ndarray]:
    """Waveforms [N, 16000] float32, the keyword index (``len(keywords)`` = silence), the speaker."""
    exe = espeak()
    key = json.dumps({"k": keywords, "s": speakers, "c": clips, "si": silence, "seed": seed, "v": espeak_version(exe), "format": 1})
    path = cache_dir() / f"mini-{hashlib.sha256(key.encode()).hexdigest()[:16]}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as cached:
            return {k: cached[k] for k in cached.files}

    rng = np.random.Generator(np.random.PCG64(seed))
    people = []
    for s in range(speakers):
        voice = VOICES[s % len(VOICES)]
        variant = VARIANTS[(s // len(VOICES) + s) % len(VARIANTS)]
        people.append((f"{voice}+{variant}" if variant else voice, int(rng.integers(120, 200)), int(rng.integers(20, 80))))
    jobs = [(p, w) for p in range(speakers) for w in range(len(keywords))]
    with ThreadPoolExecutor(max_workers=4) as pool:  # espeak-ng is a subprocess: overlap its start-up
        bases = list(pool.map(lambda j: speak(exe, keywords[j[1]], *people[j[0]]), jobs))

    waves, labels, who = [], [], []
    for (p, w), base in zip(jobs, bases):
        for _ in range(clips):
            waves.append(_augment(base, rng))
            labels.append(w)
            who.append(p)
    if silence:
        for p in range(speakers):
            for _ in range(clips):
                waves.append(rng.normal(0, rng.uniform(0.002, 0.05), RATE).astype(np.float32))
                labels.append(len(keywords))
                who.append(p)
    out = {"audio": np.stack(waves), "label": np.asarray(labels, np.int64), "speaker": np.asarray(who, np.int64)}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **out)
    os.replace(tmp, path)  # atomic: a concurrent reader never sees half a file
    return out
