"""The offline ``mini`` Speech Commands: keywords spoken by the eSpeak NG synthesiser.

The synthesiser is ``libespeak-ng`` with its voice data as the PyPI package ``espeakng-loader`` ships
them (a dependency of this plugin), called in-process through ``ctypes``: the set-up installs no
Debian package, and no ``espeak-ng`` program is needed on PATH. About 1 ms per utterance. The library
keeps state from one utterance to the next (the same word twice differs by a few samples, even after
re-initialising it), so a data set is synthesised in a fresh child process (``python -m`` this module,
not multiprocessing, which would re-run the caller's script): the same calls in the same order from a
fresh library give the same waves, run after run.

A synthetic *speaker* is an English voice with a voice variant, a speaking rate and a pitch; each
(speaker, keyword) is synthesised once and then augmented deterministically into several 1 s 16 kHz
clips (placement in the second, gain, a small tempo change, background noise), like the real
recordings' varying timing and loudness. ``_silence_`` clips are background noise alone. The arrays are
cached in the user's cache folder (``$MUBENCH_CACHE`` or ``~/.cache/mubench``), keyed by every
parameter and the library's version; never inside the installed package.
"""
from __future__ import annotations

import ctypes
import functools
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import zipfile
from pathlib import Path

import numpy as np

RATE = 16000
#: voice files of espeak-ng-data (``en`` is British English)
VOICES = ("en-us", "en", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us-nyc", "en-gb-x-gbclan", "en-gb-x-gbcwmd")
VARIANTS = ("", "m1", "m3", "m7", "f1", "f2", "f4", "klatt")
#: the pinned wheel that ships libespeak-ng and espeak-ng-data (named in the error when it is missing)
LOADER = "espeakng-loader==0.2.4"

# espeak_lib.h: AUDIO_OUTPUT_SYNCHRONOUS, espeakINITIALIZE_DONT_EXIT, espeakRATE, espeakPITCH, POS_CHARACTER
_SYNCHRONOUS, _DONT_EXIT, _RATE_PARAM, _PITCH_PARAM, _POS_CHARACTER = 2, 0x8000, 1, 3, 1
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class SynthesiserMissing(OSError):
    """libespeak-ng cannot be loaded: the mini data cannot be made (bad set-up: one line, exit 2)."""


class _Espeak:
    """The process's one libespeak-ng (the library keeps global state: one caller at a time)."""

    def __init__(self):
        try:
            import espeakng_loader
        except ImportError:
            raise SynthesiserMissing(f"speechcommands mini synthesises speech with libespeak-ng from the PyPI package "
                                     f"espeakng-loader, which is not installed (pip install '{LOADER}')") from None
        library, data = espeakng_loader.get_library_path(), espeakng_loader.get_data_path()
        try:
            lib = ctypes.CDLL(library)
        except OSError as exc:
            raise SynthesiserMissing(f"speechcommands mini: cannot load libespeak-ng from {library}: {exc}") from None
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Info.restype, lib.espeak_Info.argtypes = ctypes.c_char_p, [ctypes.c_void_p]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                     ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        self.rate = lib.espeak_Initialize(_SYNCHRONOUS, 0, data.encode(), _DONT_EXIT)
        if self.rate <= 0:
            raise SynthesiserMissing(f"speechcommands mini: libespeak-ng ({library}) found no voice data in {data}")
        self.version = lib.espeak_Info(None).decode()
        self._chunks: list[np.ndarray] = []
        self._callback = _CALLBACK(self._receive)  # kept referenced: the library calls it during Synth
        lib.espeak_SetSynthCallback(self._callback)
        self.lib = lib
        self.lock = threading.Lock()

    def _receive(self, wav, n, events) -> int:
        if wav and n > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).astype(np.float32) / 32768.0)
        return 0  # go on

    def speak(self, word: str, voice: str, speed: int, pitch: int) -> np.ndarray:
        """One utterance as float32 at the library's rate (22.05 kHz)."""
        with self.lock:
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise ValueError(f"speechcommands mini: libespeak-ng has no voice {voice!r}")
            self.lib.espeak_SetParameter(_RATE_PARAM, speed, 0)
            self.lib.espeak_SetParameter(_PITCH_PARAM, pitch, 0)
            self._chunks.clear()
            text = word.encode() + b"\0"
            if self.lib.espeak_Synth(text, len(text), 0, _POS_CHARACTER, 0, 0, None, None) != 0:
                raise RuntimeError(f"speechcommands mini: libespeak-ng failed to speak {word!r} with {voice!r}")
            self.lib.espeak_Synchronize()
            return np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.float32)


@functools.lru_cache(maxsize=1)
def espeak() -> _Espeak:
    """The loaded synthesiser; :class:`SynthesiserMissing` when the library or its data is missing."""
    return _Espeak()


def cache_dir() -> Path:
    return Path(os.environ.get("MUBENCH_CACHE") or Path.home() / ".cache" / "mubench") / "speechcommands"


def speak(word: str, voice: str, speed: int, pitch: int) -> np.ndarray:
    """One utterance as float32 at 16 kHz."""
    from scipy.signal import resample_poly

    engine = espeak()
    wave = engine.speak(word, voice, speed, pitch)
    if engine.rate != RATE:
        g = np.gcd(engine.rate, RATE)
        wave = resample_poly(wave, RATE // g, engine.rate // g).astype(np.float32)
    return wave


def _synthesise_in_child(jobs: list[tuple[str, str, int, int]]) -> list[np.ndarray]:
    """``speak(*job)`` for every job, in a fresh process (see the module's doc)."""
    with tempfile.TemporaryDirectory() as tmp:
        spec, out = Path(tmp) / "jobs.json", Path(tmp) / "waves.npz"
        spec.write_text(json.dumps(jobs))
        src = str(Path(__file__).resolve().parents[1])  # importable in the child however the parent found it
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p)}
        proc = subprocess.run([sys.executable, "-m", "mubench_speechcommands.synth", str(spec), str(out)],
                              env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
            raise RuntimeError(f"speechcommands mini: the speech synthesis process failed: {last}")
        with np.load(out, allow_pickle=False) as waves:
            return [waves[f"w{i}"] for i in range(len(jobs))]


def _child_main(spec: str, out: str) -> None:
    jobs = json.loads(Path(spec).read_text())
    np.savez(out, **{f"w{i}": speak(*job) for i, job in enumerate(jobs)})


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
    engine = espeak()  # loaded first: a missing synthesiser is reported even when a cache file exists
    key = json.dumps({"k": keywords, "s": speakers, "c": clips, "si": silence, "seed": seed,
                      "v": f"libespeak-ng {engine.version}", "format": 2})
    path = cache_dir() / f"mini-{hashlib.sha256(key.encode()).hexdigest()[:16]}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as cached:
                return {k: cached[k] for k in cached.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile):  # a damaged cache file is made again
            pass

    rng = np.random.Generator(np.random.PCG64(seed))
    people = []
    for s in range(speakers):
        voice = VOICES[s % len(VOICES)]
        variant = VARIANTS[(s // len(VOICES) + s) % len(VARIANTS)]
        people.append((f"{voice}+{variant}" if variant else voice, int(rng.integers(120, 200)), int(rng.integers(20, 80))))
    jobs = [(p, w) for p in range(speakers) for w in range(len(keywords))]
    bases = _synthesise_in_child([(keywords[w], *people[p]) for p, w in jobs])  # a fresh library: see above

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
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(tmp, **out)
    os.replace(tmp, path)  # atomic: a concurrent reader never sees half a file
    return out


if __name__ == "__main__":  # the synthesis child: python -m mubench_speechcommands.synth JOBS.json OUT.npz
    _child_main(*sys.argv[1:])
