import pytest

from instrument_bench.datasets import gm


@pytest.mark.parametrize("program, family", [
    (0, "keyboard"), (7, "keyboard"), (8, "mallet"), (15, "mallet"), (16, "organ"), (23, "organ"),
    (24, "guitar"), (31, "guitar"), (32, "bass"), (39, "bass"), (40, "string"), (51, "string"),
    (52, "vocal"), (54, "vocal"), (56, "brass"), (63, "brass"), (64, "reed"), (71, "reed"),
    (72, "flute"), (79, "flute"), (80, "synth_lead"), (87, "synth_lead"),
])
def test_family_boundaries(program, family):
    assert gm.family_of(program) == family


@pytest.mark.parametrize("program", [55, 88, 127, -1])
def test_programs_without_family_raise(program):
    with pytest.raises(ValueError, match=str(program)):
        gm.family_of(program)


@pytest.mark.parametrize("program, source", [
    (0, "acoustic"), (4, "electronic"), (16, "electronic"), (19, "acoustic"), (30, "electronic"),
    (33, "electronic"), (38, "synthetic"), (50, "synthetic"), (54, "synthetic"), (62, "synthetic"),
    (81, "synthetic"), (73, "acoustic"),
])
def test_sources(program, source):
    assert gm.source_of(program) == source


def test_every_program_has_a_sane_range():
    programs = gm.all_programs()
    assert len(programs) == 87 and 55 not in programs
    for program in programs:
        low, high = gm.pitch_range(program)
        assert 21 <= low < high <= 108, program
