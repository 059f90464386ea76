"""``gm-notes-varied``: gm-notes' instruments played the way people play and record them.

Every gm-notes note is played the same way: note-on at the clip's start, held 3 s in a 4 s clip, at
one fixed gain, with no room and no noise. A model trained on such notes can lean on that uniform
timing and level (where the attack sits, when the release starts, how loud a clip is), cues that
no user's recording has. Here those cues are drawn at random, per note:

- the held length, uniform in log-space over 0.2-4 s (what does not fit is cut by the clip's end);
- the onset: the note-on comes 0-0.25 s into the clip (the clip itself starts at a fixed time);
- the pitch, uniform over the program's range (:func:`gm.pitch_range`), and the velocity, 20-127;
- expression (CC 11, a crescendo or diminuendo between 64 and 127) on 30 % of the notes of the
  programs that can swell a held note (``SUSTAINED``: organs, bowed strings, voices, brass, reeds,
  flutes, synth leads) and vibrato on 30 % of those but the organs': half by the modulation wheel
  (CC 1, 40-100, from 0.1-0.4 s after the note-on), half by a pitch-bend LFO of 5-20 cents at
  4.5-6.5 Hz. Pianos, mallets, guitars, basses, pizzicato, harp and timpani get neither: their
  notes only decay. The synthesizer (rustysynth, inside ``midirenderer``) responds with TimGM6mb
  and FluidR3_GM alike: CC 11 = 40 lowers the level by 20-24 dB, CC 1 swings the pitch by about
  +-45 cents x value / 127 (its 50-cent modulation depth on the preset's vibrato LFO), and a bend
  moves it by its value (+-2 semitones over the bend's range);
- a gain applied after rendering, uniform in dB over ``GAIN_DB`` (36 dB) around gm-notes' fixed
  ``GAIN``; with the velocities' own ~33 dB, the full TimGM6mb render's peaks spread over about
  50 dB (5th-95th percentile -62 to -15 dBFS, median -36). A note whose peak stays under
  ``gm_notes.MIN_PEAK`` is left out and listed in the marker's "dropped" (20 of 3,132 there: 18
  pitches the SoundFont has no sample for, 2 soft notes at the lowest gains).
  Where a note would clip, its gain is lowered to a 0.99 peak (``gain_db`` records what was used).

Every draw comes from a numpy Generator seeded with ``(SEED, program, note index)``, so a render is
deterministic and the first notes of a program do not depend on how many are drawn.

The recording chain is the same for every note unless asked for (options, each named in the data
version): ``room`` convolves with a synthetic room response (exponentially decaying noise, RT60
0.3-0.8 s, 5-20 ms pre-delay, direct-to-reverberant ratio -3..6 dB), ``noise`` adds pink
background noise at 20-40 dB SNR (against the note's mean power while held in the clip), ``mic``
filters with a random microphone colouring (a 2nd-order Butterworth high-pass at 60-150 Hz and a
first-order high shelf of -6..+3 dB above 2-5 kHz), applied in that order, each drawn from its own
seeded stream so the notes played stay the same. By default ``gm-notes-varied`` varies the
performance and the level, not the recording chain. The qualities are derived from the note as
played, before the chain (:func:`qualities.derive_qualities` with the note's own onset and held
length): they describe the note, the flags ``room`` / ``noise`` / ``mic`` say what was added.

Programs, split (:func:`gm_notes.assign_splits`, instrument-disjoint), sample rate, 4 s clips and
NSynth's json/wav layout are gm-notes'; 36 notes are drawn per program. The data is rendered once
into ``<data home>/gm-notes-varied/v<version>``, version ``1-varied1`` plus ``-room``, ``-noise``,
``-mic`` and the SoundFont's fingerprint when one is named.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
from scipy import signal

from ..config import data_home as default_data_home
from ..errors import DatasetNotFoundError
from ..parallel import parallel_map
from ..storage import atomic_dir, done_with
from . import gm, gm_notes
from .nsynth import read_layout
from .qualities import derive_qualities
from .render import PlayedNote, render_played, soundfont_fingerprint

NAME = "gm-notes-varied"
VARIED_VERSION = "1"
SEED = 7311
SAMPLE_RATE = gm_notes.SAMPLE_RATE
CLIP_SECONDS = gm_notes.CLIP_SECONDS
GAP_SECONDS = 2.5  # after a note-off at up to 4.25 s, 2.25 s of release before the next clip
NOTES_PER_PROGRAM = 36
HELD_SECONDS = (0.2, 4.0)  # log-uniform
MAX_ONSET = 0.25
VELOCITIES = (20, 127)
GAIN_DB = (-32.0, 4.0)  # relative to gm_notes.GAIN: TimGM6mb peaks <= 0.26, so +4 dB stays < 0.8
MAX_PEAK = 0.99
SUSTAINED = frozenset([*range(16, 24), *range(40, 45), *range(48, 55), *range(56, 88)])
VIBRATO = SUSTAINED - frozenset(range(16, 24))
P_EXPRESSION = 0.3
EXPRESSION = (64, 127)  # CC 11 at the note-on and at the note-off (or the clip's end)
P_VIBRATO = 0.3
MODULATION = (40, 100)  # CC 1
VIBRATO_DELAY = (0.1, 0.4)
BEND_CENTS = (5.0, 20.0)
BEND_RATE = (4.5, 6.5)
CONTROL_STEP, BEND_STEP = 0.05, 0.02  # seconds between expression / pitch-bend events
BEND_RANGE_CENTS = 200.0  # the synthesizers' default bend range, +-2 semitones
RT60 = (0.3, 0.8)
PREDELAY = (0.005, 0.02)
DRR_DB = (-3.0, 6.0)
SNR_DB = (20.0, 40.0)
HIGHPASS_HZ = (60.0, 150.0)
SHELF_HZ = (2000.0, 5000.0)
SHELF_DB = (-6.0, 3.0)
CHAIN = ("room", "noise", "mic")
MARKER = "gm-notes-varied.json"


def draw_note(program: int, k: int) -> dict:
    """The ``k``-th note drawn for ``program``: pitch, velocity, timing, gain, expression, vibrato."""
    rng = np.random.default_rng([SEED, program, k])
    low, high = gm.pitch_range(program)
    held = float(np.exp(rng.uniform(np.log(HELD_SECONDS[0]), np.log(HELD_SECONDS[1]))))
    onset = rng.uniform(0.0, MAX_ONSET)
    pitch, velocity = int(rng.integers(low, high + 1)), int(rng.integers(VELOCITIES[0], VELOCITIES[1] + 1))
    gain_db = rng.uniform(*GAIN_DB)
    expression, curve = rng.random() < P_EXPRESSION, rng.integers(EXPRESSION[0], EXPRESSION[1] + 1, size=2)
    vibrato, by_bend = rng.random() < P_VIBRATO, rng.random() < 0.5
    modulation, delay = int(rng.integers(MODULATION[0], MODULATION[1] + 1)), rng.uniform(*VIBRATO_DELAY)
    cents, rate = rng.uniform(*BEND_CENTS), rng.uniform(*BEND_RATE)
    expression, vibrato = expression and program in SUSTAINED, vibrato and program in VIBRATO
    return {"pitch": pitch, "velocity": velocity, "onset": round(onset, 3), "held": round(held, 3),
            "gain_db": round(gain_db, 2), "expression": [int(v) for v in curve] if expression else None,
            "vibrato": ("bend" if by_bend else "cc1") if vibrato else None, "modulation": modulation,
            "vibrato_delay": round(delay, 3), "bend_cents": round(cents, 1), "bend_rate": round(rate, 2)}


def played_note(note: dict, *, clip_seconds: float = CLIP_SECONDS) -> PlayedNote:
    """The :class:`PlayedNote` (controller and pitch-bend events) of a drawn note."""
    onset, end = note["onset"], min(note["onset"] + note["held"], clip_seconds)
    controls, bends = [], []
    if note["expression"]:
        first, last = note["expression"]
        times = np.arange(onset, end + 1e-9, CONTROL_STEP)
        values = np.round(np.interp(times, [onset, end], [first, last])).astype(int)
        keep = np.r_[True, values[1:] != values[:-1]]
        controls += [(0.0, 11, first)] if onset > 0 else []
        controls += [(round(float(t), 4), 11, int(v)) for t, v in zip(times[keep], values[keep])]
    start = onset + note["vibrato_delay"]
    if note["vibrato"] == "cc1" and start < end:
        controls.append((round(start, 4), 1, note["modulation"]))
    elif note["vibrato"] == "bend" and start < end:
        depth = note["bend_cents"] / BEND_RANGE_CENTS * 8191
        times = np.arange(start, end, BEND_STEP)
        lfo = np.round(depth * np.sin(2 * np.pi * note["bend_rate"] * (times - start))).astype(int)
        bends = [(round(float(t), 4), int(v)) for t, v in zip(times, lfo)]
    return PlayedNote(pitch=note["pitch"], velocity=note["velocity"], onset=onset, held=note["held"],
                      controls=tuple(controls), bends=tuple(bends))


def note_id(program: int, k: int, note: dict) -> str:
    """``<instrument_str>-<k:03d>-<pitch:03d>-<velocity:03d>``, unique within the data."""
    return f"{gm_notes.instrument_str(program)}-{k:03d}-{note['pitch']:03d}-{note['velocity']:03d}"


def _chain_rng(program: int, k: int, part: str):
    return np.random.default_rng([SEED, program, k, 1 + CHAIN.index(part)])


def add_room(audio, rng, *, sample_rate: int = SAMPLE_RATE) -> tuple[np.ndarray, dict]:
    """Convolve with a synthetic room response; returns the audio (same length) and its draws."""
    rt60, predelay, drr = rng.uniform(*RT60), rng.uniform(*PREDELAY), rng.uniform(*DRR_DB)
    n = int(rt60 * sample_rate)
    tail = rng.standard_normal(n) * 10 ** (-3.0 * np.arange(n) / (rt60 * sample_rate))  # -60 dB at rt60
    tail *= 10 ** (-drr / 20) / np.sqrt((tail ** 2).sum())
    response = np.zeros(int(predelay * sample_rate) + n)
    response[0] = 1.0
    response[-n:] += tail
    wet = signal.fftconvolve(audio, response)[: len(audio)]
    return wet, {"room_rt60": round(rt60, 3), "room_drr_db": round(drr, 2)}


def add_noise(audio, rng, *, onset: float, end: float, sample_rate: int = SAMPLE_RATE):
    """Add pink noise at a drawn SNR against the note's mean power from ``onset`` to ``end``."""
    snr = rng.uniform(*SNR_DB)
    spectrum = np.fft.rfft(rng.standard_normal(len(audio)))
    freqs = np.fft.rfftfreq(len(audio), d=1 / sample_rate)
    spectrum[1:] /= np.sqrt(freqs[1:])
    spectrum[0] = 0.0
    pink = np.fft.irfft(spectrum, n=len(audio))
    held = audio[int(onset * sample_rate): max(int(end * sample_rate), int((onset + 0.1) * sample_rate))]
    power = float((held ** 2).mean()) if held.size else 0.0
    pink *= np.sqrt(power / 10 ** (snr / 10) / (pink ** 2).mean())
    return audio + pink, {"noise_snr_db": round(snr, 2)}


def add_mic(audio, rng, *, sample_rate: int = SAMPLE_RATE):
    """Filter with a microphone colouring: a Butterworth high-pass and a gentle high shelf."""
    highpass, shelf_hz, shelf_db = rng.uniform(*HIGHPASS_HZ), rng.uniform(*SHELF_HZ), rng.uniform(*SHELF_DB)
    y = signal.sosfilt(signal.butter(2, highpass, btype="highpass", fs=sample_rate, output="sos"), audio)
    low = signal.sosfilt(signal.butter(1, shelf_hz, btype="lowpass", fs=sample_rate, output="sos"), y)
    y = low + 10 ** (shelf_db / 20) * (y - low)
    return y, {"mic_highpass_hz": round(highpass, 1), "mic_shelf_hz": round(shelf_hz),
               "mic_shelf_db": round(shelf_db, 2)}


def _render_program(program: int, n_notes: int, audio_dir: Path, soundfont=None,
                    chain=()) -> tuple[dict, list]:
    drawn = [draw_note(program, k) for k in range(n_notes)]
    played = [played_note(note) for note in drawn]
    clips = render_played(program=program, notes=played, sample_rate=SAMPLE_RATE, clip_seconds=CLIP_SECONDS,
                          gap_seconds=GAP_SECONDS, soundfont=soundfont)
    examples, dropped = {}, []
    for k, (note, events, audio) in enumerate(zip(drawn, played, clips)):
        name = note_id(program, k, note)
        audio = audio.astype(np.float64) * gm_notes.GAIN * 10 ** (note["gain_db"] / 20)
        if np.abs(audio).max() < gm_notes.MIN_PEAK:
            dropped.append(name)
            continue
        onset, end = note["onset"], min(note["onset"] + note["held"], CLIP_SECONDS)
        qualities = derive_qualities(audio.astype(np.float32), sample_rate=SAMPLE_RATE, pitch=note["pitch"],
                                     note_seconds=round(end - onset, 3), onset_seconds=onset)
        extra = {}
        if "room" in chain:
            audio, info = add_room(audio, _chain_rng(program, k, "room"))
            extra.update(info)
        if "noise" in chain:
            audio, info = add_noise(audio, _chain_rng(program, k, "noise"), onset=onset, end=end)
            extra.update(info)
        if "mic" in chain:
            audio, info = add_mic(audio, _chain_rng(program, k, "mic"))
            extra.update(info)
        gain_db, peak = note["gain_db"], float(np.abs(audio).max())
        if peak > MAX_PEAK:  # lower the gain rather than clip
            audio *= MAX_PEAK / peak
            gain_db = round(gain_db + 20 * np.log10(MAX_PEAK / peak), 2)
        sf.write(audio_dir / f"{name}.wav", np.clip(audio, -1.0, 1.0), SAMPLE_RATE, subtype="PCM_16")
        examples[name] = {
            **gm_notes.example_fields(note=name, program=program, pitch=note["pitch"],
                                      velocity=note["velocity"], qualities=qualities),
            "onset_seconds": onset, "note_seconds": round(end - onset, 3), "held_seconds": note["held"],
            "gain_db": gain_db, "expression": int(any(c == 11 for _, c, _ in events.controls)),
            **_vibrato(events),
            **{part: int(part in chain) for part in CHAIN}, **extra,
        }
    return examples, dropped


def _vibrato(events: PlayedNote) -> dict:
    """The ``vibrato`` flag (and ``vibrato_kind``) of what was played: a vibrato drawn to start after
    the note-off (or the clip's end) plays no events and is not flagged."""
    kind = "bend" if events.bends else "cc1" if any(c == 1 for _, c, _ in events.controls) else None
    return {"vibrato": int(kind is not None), **({"vibrato_kind": kind} if kind else {})}


def version_of(*, room: bool = False, noise: bool = False, mic: bool = False, soundfont=None) -> str:
    """The data version of a render: ``<gm-notes VERSION>-varied<VARIED_VERSION>`` and its options."""
    version = f"{gm_notes.VERSION}-varied{VARIED_VERSION}"
    version += "".join(f"-{part}" for part, on in zip(CHAIN, (room, noise, mic)) if on)
    return version + (f"-{soundfont_fingerprint(soundfont)}" if soundfont else "")


def _settings(programs, notes_per_program, version) -> dict:
    return {"version": version, "programs": list(programs), "notes_per_program": notes_per_program,
            "sample_rate": SAMPLE_RATE, "split_seed": gm_notes.SPLIT_SEED, "seed": SEED}


def render_dataset(root, *, programs=None, notes_per_program: int = NOTES_PER_PROGRAM, jobs: int = 1,
                   progress: bool = True, soundfont=None, room: bool = False, noise: bool = False,
                   mic: bool = False) -> Path:
    """Render gm-notes-varied into ``root`` (NSynth layout), replacing anything there.

    Rendering happens in a sibling temporary folder renamed into place at the end, so an interrupted
    render never leaves a half-written dataset behind.

    Parameters
    ----------
    root : str or Path
        Destination folder.
    programs : sequence of int, optional
        GM programs to render (default: all 87).
    notes_per_program : int
        Notes drawn per program.
    jobs : int
        Worker processes.
    progress : bool
        Show a progress bar.
    soundfont : str or Path, optional
        The SF2 file to render (default: TimGM6mb, inside pretty_midi).
    room, noise, mic : bool
        Add a room response, background noise, a microphone colouring.
    """
    root = Path(root)
    programs = list(programs if programs is not None else gm.all_programs())
    splits = gm_notes.assign_splits(programs)
    chain = tuple(part for part, on in zip(CHAIN, (room, noise, mic)) if on)
    version = version_of(room=room, noise=noise, mic=mic, soundfont=soundfont)
    with atomic_dir(root) as tmp:
        for split in ("train", "valid", "test"):
            (tmp / f"nsynth-{split}" / "audio").mkdir(parents=True)
        tasks = [(p, notes_per_program, tmp / f"nsynth-{splits[p]}" / "audio", soundfont, chain)
                 for p in programs]
        results = parallel_map(_render_program, tasks, jobs=jobs, desc=f"rendering {NAME} v{version}",
                               unit="program", progress=progress)
        gm_notes.write_examples(tmp, programs=programs, splits=splits, results=results, marker=MARKER,
                                settings=_settings(programs, notes_per_program, version))
    return root


def ensure_rendered(root, *, programs=None, notes_per_program: int = NOTES_PER_PROGRAM, jobs: int = 1,
                    progress: bool = True, soundfont=None, room: bool = False, noise: bool = False,
                    mic: bool = False) -> Path:
    """Render gm-notes-varied into ``root`` unless a complete render with the same settings is there."""
    root = Path(root)
    programs = list(programs if programs is not None else gm.all_programs())
    version = version_of(room=room, noise=noise, mic=mic, soundfont=soundfont)
    if done_with(root / MARKER, _settings(programs, notes_per_program, version)):
        return root
    return render_dataset(root, programs=programs, notes_per_program=notes_per_program, jobs=jobs,
                          progress=progress, soundfont=soundfont, room=room, noise=noise, mic=mic)


def load(*, data_root=None, data_home=None, jobs: int = 1, progress: bool = True, soundfont=None,
         room: bool = False, noise: bool = False, mic: bool = False):
    """Load gm-notes-varied, rendering it into the data home first if needed.

    Parameters
    ----------
    soundfont : str or Path, optional
        The SF2 file to play (default: TimGM6mb); its fingerprint joins the data version.
    room, noise, mic : bool
        Add a room response, background noise at 20-40 dB SNR, a microphone colouring (each
        joins the data version).

    Raises
    ------
    DatasetNotFoundError
        The named SoundFont file is not there.
    """
    return _load(NAME, data_home=data_home, jobs=jobs, progress=progress, soundfont=soundfont, room=room,
                 noise=noise, mic=mic)


def _load(name: str, *, data_home, jobs: int, progress: bool, soundfont, room: bool, noise: bool, mic: bool):
    """Render (once) and read the varied notes under the dataset name ``name``."""
    if soundfont is not None:
        soundfont = Path(soundfont).expanduser()
        if not soundfont.is_file():
            hint = (f"install it with `{gm_notes.FLUIDR3_INSTALL}`" if str(soundfont) == gm_notes.FLUIDR3
                    else "check the path")
            raise DatasetNotFoundError(f"SoundFont {soundfont} not found; {hint} (or name any SF2 file with "
                                       f"soundfont = PATH in [datasets.{name}])")
    home = Path(data_home) if data_home else default_data_home()
    version = version_of(room=room, noise=noise, mic=mic, soundfont=soundfont)
    root = ensure_rendered(home / name / f"v{version}", jobs=jobs, progress=progress, soundfont=soundfont,
                           room=room, noise=noise, mic=mic)
    return read_layout(root, name=name, version=version)


def load_fluidr3(*, data_root=None, data_home=None, jobs: int = 1, progress: bool = True,
                 soundfont: str = gm_notes.FLUIDR3, room: bool = False, noise: bool = False,
                 mic: bool = False):
    """Load gm-notes-varied-fluidr3: the same varied notes played by FluidR3_GM (or ``soundfont``).

    Raises
    ------
    DatasetNotFoundError
        The SoundFont file is not there (with the command that installs FluidR3_GM).
    """
    return _load(f"{NAME}-fluidr3", data_home=data_home, jobs=jobs, progress=progress, soundfont=soundfont,
                 room=room, noise=noise, mic=mic)
