"""``report`` (checked in headless Chromium) and ``predict`` on rendered notes, an mp3 and bad files."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from instrument_bench.cli import main
from instrument_bench.figures import pareto_front
from tests.suites import experiment, write_suite

SETTINGS = {"name": "tiny-report", "seeds": 2, "keras": {"epochs": 2, "patience": 1, "batch_size": 16},
            "datasets": {"musicnet": {"valid_fraction": 0.2}}}
EXPERIMENTS = (
    experiment("nsynth", tasks=["family"], features=["mfcc-stats"], models=["chance", "logreg", "mlp"]),
    experiment("nsynth", tasks=["family"], features=["log-mel"], models=["cnn"]),
    experiment("musicnet", tasks=["families"], features=["mfcc-stats"], models=["chance", "logreg", "mlp"]),
)

@pytest.fixture(scope="module")
def finished(tiny_data_root, tiny_mix_root, tmp_path_factory):
    """A results folder after a small single- and multi-label run."""
    base = tmp_path_factory.mktemp("report")
    data = base / "data"
    data.mkdir()
    (data / "nsynth").symlink_to(tiny_data_root / "nsynth")
    (data / "musicnet").symlink_to(tiny_mix_root / "musicnet")
    suite = write_suite(base / "suite.toml", *EXPERIMENTS, **SETTINGS)
    res = base / "results"
    mp = pytest.MonkeyPatch()  # the same data home for the module: it holds the models' signing key
    mp.setenv("INSTRUMENT_BENCH_HOME", str(base / "home"))
    assert main(["run", str(suite), "--data-root", str(data), "--results", str(res), "-q"]) == 0
    yield res
    mp.undo()


def test_pareto_front():
    cost = np.array([1.0, 2.0, 3.0, 4.0, 0.5])
    score = np.array([0.5, 0.4, 0.7, 0.6, 0.2])
    assert pareto_front(cost, score).tolist() == [4, 0, 2]


def test_models_and_predictions_are_kept_for_the_best_seeds(finished):
    runs = pd.read_csv(finished / "runs.csv")
    saved = {p.name for p in (finished / "models").iterdir()}
    assert saved and saved < set(runs["model_key"])  # the other seeds were pruned
    assert len(list((finished / "predictions").glob("*.npz"))) == runs["model_key"].nunique()
    manifests = [json.loads((finished / "models" / k / "manifest.json").read_text()) for k in saved]
    formats = {m["model_file"] for m in manifests}
    assert formats == {"model.keras", "model.joblib"}


@pytest.mark.processes  # a headless Chromium
def test_report_page_loads_every_image_without_console_errors(finished, tmp_path, capsys):
    assert main(["report", "--results", str(finished), "-q"]) == 0
    page = finished / "report.html"
    text = page.read_text()
    assert "nsynth / family (single-label)" in text and "musicnet / families (multi-label)" in text
    assert "Confusion matrices" in text and "precision-recall" in text
    figures = sorted(p.name for p in (finished / "figures").glob("*.png"))
    assert any("heatmap" in f for f in figures) and any("cost" in f for f in figures)
    assert any("per-class" in f for f in figures)
    assert text.count("<img") == len(figures)  # every figure is embedded, nothing linked
    assert 'src="data:image/png;base64,' in text and "src=\"figures" not in text
    # ranking with intervals and the tie group first, then the sentence; single-label first; the
    # critical-difference diagram across datasets at the top; the full tables folded
    expected = {"nsynth-family-ranking.png", "musicnet-families-ranking.png", "critical-difference.png"}
    assert expected <= set(figures)
    assert text.index("nsynth / family") < text.index("musicnet / families")
    assert text.index("critical-difference diagram") < text.index("id='nsynth-family'")
    assert text.count("class='conclusion'") == 2 and ("statistically tied" in text or "beats ranks" in text)
    assert "too few for the test to have power" not in text or "little power" in text

    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver_path):
        pytest.skip("Debian's chromium and chromium-driver are not installed (.ci/run installs them)")
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 f"--user-data-dir={tmp_path / 'chromium'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver_path))
    try:
        driver.get(page.as_uri())
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt])")
        layout = driver.execute_script(
            "return [document.querySelectorAll('nav a').length, document.querySelectorAll('details').length,"
            " Array.from(document.querySelectorAll('details')).every(d => !d.open)]")
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    finally:
        driver.quit()
    assert len(images) == len(figures)
    assert all(complete and width > 0 for complete, width, _ in images), images
    alts = [alt for *_, alt in images]
    assert alts.count("ranking with intervals") == 2 and alts[0] == "critical-difference diagram"
    assert layout == [2, 2, True]  # a contents entry and a folded full table per dataset x task
    assert errors == []


def test_predict_a_rendered_note_and_an_mp3(finished, tiny_data_root, tmp_path, capsys):
    wav = sorted((tiny_data_root / "nsynth" / "nsynth-test" / "audio").glob("*.wav"))[0]
    audio, rate = sf.read(wav)
    long_stereo = np.stack([np.tile(audio, 3), np.tile(audio, 3)], axis=1)  # 12 s, stereo
    mp3 = tmp_path / "note.mp3"
    sf.write(mp3, long_stereo * 0.8, rate, format="MP3")
    code = main(["predict", str(wav), str(mp3), "--results", str(finished), "--dataset", "nsynth",
                 "--task", "family", "--json", "--top", "2"])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0 and len(out) == 2
    note, long = (json.loads(line) for line in out)
    assert note["labels"][0] in ("keyboard", "guitar", "string") and len(note["labels"]) == 1
    assert len(note["top"]) == 2 and note["top"][0][1] >= note["top"][1][1]
    assert note["windows"] == []  # one 4 s window
    assert long["seconds"] == pytest.approx(12.0, abs=0.1) and len(long["windows"]) == 3
    assert [w["start"] for w in long["windows"]] == [0.0, 4.0, 8.0]

    assert main(["predict", str(mp3), "--results", str(finished), "--dataset", "musicnet",
                 "--hop", "2"]) == 0
    text = capsys.readouterr()
    assert "musicnet/families" in text.err and text.out.count("s  ") >= 4  # a timeline every 2 s


def test_predict_errors(finished, tmp_path, capsys):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF not really a wav")
    good = sorted((finished.parent / "data" / "nsynth" / "nsynth-test" / "audio").glob("*.wav"))[0]
    assert main(["predict", str(bad), str(good), "--results", str(finished), "--dataset", "nsynth"]) == 1
    captured = capsys.readouterr()
    assert f"{bad}: cannot read audio" in captured.err and str(good) in captured.out
    assert main(["predict", str(tmp_path / "missing.wav"), "--results", str(finished)]) == 1
    assert "audio file not found" in capsys.readouterr().err
    # a pickled model the tool did not sign here is refused unless trusted (a copy of one it did
    # sign loads: tests/test_trust.py)
    runs = pd.read_csv(finished / "runs.csv")
    logreg = runs.loc[runs["model"] == "logreg", "model_key"]
    key = next(k for k in logreg if (finished / "models" / k).is_dir())
    outside = tmp_path / "elsewhere"
    shutil.copytree(finished / "models" / key, outside)
    manifest = json.loads((outside / "manifest.json").read_text())
    (outside / "manifest.json").write_text(json.dumps({**manifest, "signature": "f" * 64}))
    assert main(["predict", str(good), "--results", str(finished), "--model", str(outside)]) == 1
    assert "pass --trust" in capsys.readouterr().err
    assert main(["predict", str(good), "--results", str(finished), "--model", str(outside), "--trust"]) == 0
    assert main(["report", "--results", str(tmp_path / "empty")]) == 1
    assert "no finished runs" in capsys.readouterr().err
