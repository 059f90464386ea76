"""Feature extraction throughput, in audio-seconds per wall-second, for mfcc-stats and log-mel.

Every path computes the same feature of the same clips (4 s gm-notes renders at 16 kHz, already
decoded into memory) in one process with every thread pool limited to one thread:

- ``project``: instrument_bench's default path (``features.fast``, batches of ``--batch`` clips);
- ``librosa-per-clip``: ``librosa.feature.mfcc`` / ``melspectrogram`` called once per clip;
- ``librosa-batched``: the same librosa functions given a ``(clips, samples)`` batch;
- ``essentia``: Essentia's ``FrameGenerator``/``Windowing``/``Spectrum``/``MelBands`` (+ ``DCT``
  for MFCCs) per frame;
- ``fft-floor``: bare ``scipy.fft.rfft`` power spectra of the same frames (framing, window, FFT,
  ``|X|^2``, nothing else): the floor no spectral feature can beat.

Then the project path on both cores: joblib worker processes, each reading its share of the clips
from a memory-mapped file (as ``run``'s workers read their own audio files) and writing its rows
into a memory-mapped output (as the feature store does); the same shard path in one process
(``project-1-core-sharded``) gives the scaling ratio.
Prints a table (throughput, ratio to the floor) and appends it to ``results/benchmarks.csv``.

    python benchmarks/bench_features.py [--clips 4096] [--batch 16] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import librosa
import numpy as np
import pandas as pd
import scipy.fft
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits

from instrument_bench.audio import load_audio
from instrument_bench.datasets import gm_notes
from instrument_bench.features import FEATURES, fast
from instrument_bench.features.essentia_descriptors import _essentia_standard
from instrument_bench.results import append_csv

ROOT = Path(__file__).resolve().parents[1]
SR = 16000


def librosa_mfcc_stats(y, p):
    mfcc = librosa.feature.mfcc(y=y, sr=SR, n_mfcc=p["n_mfcc"], n_fft=p["n_fft"],
                                hop_length=p["hop_length"], n_mels=p["n_mels"])
    delta = librosa.feature.delta(mfcc)
    return np.concatenate([mfcc.mean(-1), mfcc.std(-1), delta.mean(-1), delta.std(-1)], axis=-1)


def librosa_log_mel(y, p):
    mel = librosa.feature.melspectrogram(y=y, sr=SR, n_fft=p["n_fft"], hop_length=p["hop_length"],
                                         n_mels=p["n_mels"], fmin=p["fmin"], fmax=p["fmax"])
    return 10 * np.log10(np.maximum(mel, 1e-10))


def essentia_path(feature, p):
    es = _essentia_standard()
    window = es.Windowing(type="hann", size=p["n_fft"], zeroPhase=False)
    spectrum = es.Spectrum(size=p["n_fft"])
    high = p.get("fmax", SR / 2)
    bands = es.MelBands(numberBands=p["n_mels"], sampleRate=SR, inputSize=p["n_fft"] // 2 + 1,
                        lowFrequencyBound=p.get("fmin", 0.0), highFrequencyBound=high,
                        warpingFormula="slaneyMel", normalize="unit_tri", weighting="linear", type="power")
    dct = es.DCT(inputSize=p["n_mels"], outputSize=p.get("n_mfcc", 20), dctType=2)

    def one(clip):
        signal = np.pad(clip, p["n_fft"] // 2)
        rows = []
        for frame in es.FrameGenerator(signal, frameSize=p["n_fft"], hopSize=p["hop_length"],
                                       startFromZero=True, lastFrameToEndOfFile=True):
            db = (10 * np.log10(np.maximum(bands(spectrum(window(frame))), 1e-10))).astype(np.float32)
            rows.append(dct(db) if feature == "mfcc-stats" else db)
        rows = np.asarray(rows)
        if feature == "mfcc-stats":
            delta = librosa.feature.delta(rows.T)
            return np.concatenate([rows.mean(0), rows.std(0), delta.mean(-1), delta.std(-1)])
        return rows
    return one


def fft_floor(batch, p):
    padded = np.pad(batch, ((0, 0), (p["n_fft"] // 2, p["n_fft"] // 2)))
    frames = np.lib.stride_tricks.sliding_window_view(padded, p["n_fft"], axis=-1)[:, ::p["hop_length"]]
    spectrum = scipy.fft.rfft(frames * fast.hann(p["n_fft"]), axis=-1, workers=1)
    return spectrum.real ** 2 + spectrum.imag ** 2


def project_batches(feature, batches):
    spec = FEATURES[feature]
    with threadpool_limits(1):
        return [spec.extract_batch(b, sample_rate=SR, **spec.params) for b in batches]


def project_shard(feature, path, out, ranges):
    """A worker's share, as ``run``'s workers do it: read its clips (memory-mapped here, files
    there) and write its rows straight into the memory-mapped output."""
    audio, target = np.load(path, mmap_mode="r"), np.load(out, mmap_mode="r+")
    for (a, b), rows in zip(ranges, project_batches(feature, [np.asarray(audio[a:b]) for a, b in ranges])):
        target[a:b] = rows
    target.flush()


def timed(fn, repeats):
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def measure(feature, reference, audio, batches, *, repeats: int) -> dict[str, float]:
    """Audio-seconds per wall-second of every path on one core, and of the project path on all."""
    seconds = audio.shape[0] * audio.shape[1] / SR
    p = {k: v for k, v in FEATURES[feature].params.items() if k != "backend"}
    essentia_one = essentia_path(feature, p)
    subset = max(1, len(audio) // 8)  # the slow per-clip paths time an eighth of the clips
    part = seconds * subset / len(audio)
    paths = {
        "project": (lambda: project_batches(feature, batches), seconds),
        "librosa-per-clip": (lambda: [reference(a, p) for a in audio[:subset]], part),
        "librosa-batched": (lambda: [reference(b, p) for b in batches], seconds),
        "essentia": (lambda: [essentia_one(a) for a in audio[:subset]], part),
        "fft-floor": (lambda: [fft_floor(b, p) for b in batches], seconds),
    }
    measured = {}
    with threadpool_limits(1):
        for name, (fn, audio_seconds) in paths.items():
            fn()  # warm-up: filterbanks, FFT plans, imports
            measured[name] = audio_seconds / timed(fn, repeats)
    jobs = os.cpu_count() or 1
    size = len(batches[0])
    ranges = [(i, min(i + size, len(audio))) for i in range(0, len(audio), size)]
    shape = project_batches(feature, [audio[:1]])[0].shape[1:]
    with tempfile.TemporaryDirectory() as tmp:
        path, out = Path(tmp) / "audio.npy", Path(tmp) / "out.npy"
        np.save(path, audio)
        np.lib.format.open_memmap(out, mode="w+", dtype=np.float32, shape=(len(audio), *shape)).flush()
        with Parallel(n_jobs=jobs) as parallel:
            def run():
                return parallel(delayed(project_shard)(feature, path, out, ranges[i::jobs])
                                for i in range(jobs))

            run()  # start the workers
            measured[f"project-{jobs}-cores"] = seconds / timed(run, repeats)
        # the same shard path (read memory-mapped, write memory-mapped) in this process, for the ratio
        def one_process():
            return project_shard(feature, path, out, ranges)

        measured["project-1-core-sharded"] = seconds / timed(one_process, repeats)
    return measured


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=4096)
    parser.add_argument("--batch", type=int, default=16, help="clips per batch (the store's chunk)")
    parser.add_argument("--repeats", type=int, default=5, help="best of N timings")
    args = parser.parse_args(argv)

    dataset = gm_notes.load(progress=False)
    notes = [load_audio(c.path, sample_rate=SR) for c in dataset.clips[:args.clips]]
    audio = np.stack([notes[i % len(notes)] for i in range(args.clips)])  # repeated past 3,111 notes
    batches = [audio[i:i + args.batch] for i in range(0, len(audio), args.batch)]
    rows = []
    for feature, reference in (("mfcc-stats", librosa_mfcc_stats), ("log-mel", librosa_log_mel)):
        measured = measure(feature, reference, audio, batches, repeats=args.repeats)
        jobs = os.cpu_count() or 1
        for name, x_realtime in measured.items():
            rows.append({"benchmark": "features", "feature": feature, "path": name,
                         "cores": jobs if name.endswith("cores") else 1, "x_realtime": round(x_realtime),
                         "ratio_to_floor": round(measured["fft-floor"] / x_realtime, 2),
                         "clips": len(audio), "clip_seconds": audio.shape[1] / SR,
                         "python": platform.python_version(), "librosa": librosa.__version__,
                         "utc_time": datetime.now(timezone.utc).isoformat(timespec="seconds")})
            print(rows[-1], flush=True)
        scaling = measured[f"project-{jobs}-cores"] / measured["project-1-core-sharded"]
        print(f"{feature}: {jobs} cores / 1 core = {scaling:.2f}x")
    table = pd.DataFrame(rows)
    print(table[["feature", "path", "cores", "x_realtime", "ratio_to_floor"]].to_string(index=False))
    append_csv(table, ROOT / "results" / "benchmarks.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
