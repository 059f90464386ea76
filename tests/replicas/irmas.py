"""IRMAS replica: training excerpts and three testing parts with ``.txt`` labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .common import WOODBLOCK, _mix, _phrase, _unique, _write

IRMAS_SAMPLE_RATE = 44100
IRMAS_PROGRAMS = {"cel": 42, "cla": 71, "flu": 73, "gac": 24, "gel": 30, "org": 19, "pia": 0,
                  "sax": 66, "tru": 56, "vio": 40, "voi": 52}
IRMAS_GENRES = ("cla", "pop_roc", "jaz_blu", "cou_fol", "lat_sou")


def write_irmas(root, *, songs_per_class: int = 3, test_files_per_part: int = 4) -> Path:
    """Write an IRMAS replica.

    Training: ``IRMAS-TrainingData/<code>/[<code>]([dru]|[nod])?[<genre>]<song>__<n>.wav``, 3.0 s
    44.1 kHz stereo 16-bit excerpts, 2-3 per song, song numbers unique over the training set.
    Testing: ``IRMAS-TestingData-Part{1,2,3}/Part{k}/<name>.wav`` of 5-10 s with a ``<name>.txt``
    beside it listing the instruments present (one code per line, each ending ``"\\t\\n"``).

    Parameters
    ----------
    root : str or Path
        Destination folder (created).
    songs_per_class : int
        Training songs per class; songs give 3, 3, 2, 3, 3, 2, ... excerpts.
    test_files_per_part : int
        Test excerpts in each of the three parts (1-3 instruments each).

    Returns
    -------
    Path
        ``root``.
    """
    root = Path(root)
    sr = IRMAS_SAMPLE_RATE
    rng = np.random.default_rng(1)
    codes = sorted(IRMAS_PROGRAMS)
    songs = iter(int(s) for s in rng.choice(np.arange(1, 2500), size=len(codes) * songs_per_class,
                                            replace=False))
    n_excerpt = 3 * sr
    seen: set = set()
    for code in codes:
        program = IRMAS_PROGRAMS[code]
        for s in range(songs_per_class):
            song = next(songs)
            genre = IRMAS_GENRES[int(rng.integers(len(IRMAS_GENRES)))]
            drums = ("", "dru", "nod")[int(rng.choice(3, p=[0.5, 0.3, 0.2]))]
            tags = f"[{code}]" + (f"[{drums}]" if drums else "") + f"[{genre}]"
            others = [c for c in codes if c != code]
            accompaniment = others[int(rng.integers(len(others)))] if rng.random() < 0.6 else None
            motif = rng.choice(12, size=4, replace=False)  # the song's notes, shared by its excerpts
            for n in range(1, (2 if s % 3 == 2 else 3) + 1):

                def excerpt(program=program, motif=motif, accompaniment=accompaniment, drums=drums):
                    tracks = [_phrase(program, sr, n_excerpt, rng, choices=motif)]
                    weights, pans = [1.0], [float(rng.uniform(-0.3, 0.3))]
                    if accompaniment is not None:
                        tracks.append(_phrase(IRMAS_PROGRAMS[accompaniment], sr, n_excerpt, rng))
                        weights.append(0.25)
                        pans.append(-pans[0] * 2)
                    if drums == "dru":
                        tracks.append(_phrase(WOODBLOCK, sr, n_excerpt, rng, seconds=0.5))
                        weights.append(0.3)
                        pans.append(0.0)
                    return _mix(tracks, weights=weights, pans=pans)

                audio = _unique(excerpt, seen)
                _write(root / "IRMAS-TrainingData" / code / f"{tags}{song:04d}__{n}.wav", audio, sr,
                       subtype="PCM_16")

    # Testing: every class appears in some test file (when there are at least 11 files).
    order = [codes[k] for k in rng.permutation(len(codes))]
    titles = ("Replica Song", "replica tune", "Another Take", "blue notes", "Hymn", "Night Drive")
    k = 0
    for part in (1, 2, 3):
        folder = root / f"IRMAS-TestingData-Part{part}" / f"Part{part}"
        for j in range(test_files_per_part):
            first = order[k % len(order)]
            rest = [c for c in codes if c != first]
            present = [first] + [rest[i] for i in rng.choice(len(rest), size=k % 3, replace=False)]
            n = int(round(float(rng.uniform(5.0, 10.0)) * sr))
            tracks = [_phrase(IRMAS_PROGRAMS[c], sr, n, rng) for c in present]
            pans = list(np.linspace(-0.6, 0.6, len(present))) if len(present) > 1 else [0.0]
            audio = _mix(tracks, weights=[1.0] + [0.8] * (len(present) - 1), pans=pans)
            title = titles[k % len(titles)]
            stem = (f"({k + 1:02d}) {title.lower()}-{j + 1}" if k % 2 else
                    f"{k + 1:02d} - {title} {part}-{j + 1}")
            _write(folder / f"{stem}.wav", audio, sr, subtype="PCM_16")
            (folder / f"{stem}.txt").write_text("".join(f"{c}\t\n" for c in present))
            k += 1
    return root
