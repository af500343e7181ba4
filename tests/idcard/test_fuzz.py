"""Fuzzing the frame decoder and the chip-text parser: arbitrary bytes give a result or a typed error.

Hypothesis runs with a fixed example budget; atheris (coverage-guided) runs a fixed number of
iterations in a child process, because libFuzzer ends its process when it finishes.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from station.idcard import commands as cmd
from station.idcard.errors import ChecksumError, IdCardError, chip_text_error
from station.idcard.frames import PREAMBLE, FrameDecoder, build_response, parse_response, xor
from station.idcard.saved import parse_saved
from sync.protocol.chiptext import TEXT_SIZE, ChipTextError, parse_text
from tests.idcard import cards
from tests.support.system import require

BUDGET = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

frames = st.builds(build_response, st.integers(0, 255), st.binary(max_size=300))
clean_noise = st.binary(max_size=40).map(lambda b: b.replace(b"\xaa", b"\x00"))
any_noise = (
    st.binary(max_size=40) | st.just(PREAMBLE) | st.just(PREAMBLE[:3]) | st.just(PREAMBLE + b"\x00\x05")
)


def _decode(stream: bytes, chunk: int) -> list[bytes]:
    decoder = FrameDecoder(min_body=4)
    found = []
    for index in range(0, len(stream), chunk):
        decoder.feed(stream[index : index + chunk])
        while True:
            try:
                frame = decoder.take()
            except ChecksumError:
                continue
            if frame is None:
                break
            found.append(frame)
    return found


@BUDGET
@given(st.lists(st.one_of(frames, clean_noise), max_size=12), st.integers(1, 64))
def test_decoder_finds_every_frame_between_garbage(parts, chunk):
    intact = [part for part in parts if part.startswith(PREAMBLE)]
    assert _decode(b"".join(parts), chunk) == intact


@BUDGET
@given(st.lists(st.one_of(frames, any_noise), max_size=12), st.integers(1, 64))
def test_decoder_output_is_always_valid_frames(parts, chunk):
    for frame in _decode(b"".join(parts), chunk):
        parse_response(frame)


@BUDGET
@given(st.binary(max_size=600))
def test_parse_response_never_crashes(data):
    try:
        parse_response(data)
    except IdCardError:
        pass


def _mutated_blocks():
    base = st.sampled_from([c.raw_text for c in cards.all_types()])
    edits = st.lists(st.tuples(st.integers(0, TEXT_SIZE - 1), st.integers(0, 255)), max_size=8)
    return st.builds(lambda block, changes: bytes(_apply(block, changes)), base, edits)


def _apply(block: bytes, changes) -> bytearray:
    out = bytearray(block)
    for offset, value in changes:
        out[offset] = value
    return out


@BUDGET
@given(st.binary(min_size=TEXT_SIZE, max_size=TEXT_SIZE) | _mutated_blocks())
def test_text_parser_gives_a_card_or_a_typed_error(block):
    try:
        chip = parse_text(block)
    except ChipTextError as error:
        assert error.code.startswith("chip_") and chip_text_error(error).message.zh
        return
    assert chip.raw_text == block
    assert chip.card_type in ("resident", "foreign_2017", "foreign_2023", "hmt_permit")
    chip.to_dict()


@BUDGET
@given(st.binary(max_size=1400) | st.builds(lambda t, p: build_response(0x90, cmd.build_base_message(t, p)),
                                             st.binary(max_size=300), st.binary(max_size=1100)))  # fmt: skip
def test_saved_file_parser_never_crashes(data):
    try:
        parse_saved(data)
    except IdCardError:
        pass


ATHERIS_RUN = textwrap.dedent(
    """
    import sys
    import atheris
    with atheris.instrument_imports():
        from station.idcard.saved import parse_saved
        from station.idcard.frames import FrameDecoder
        from station.idcard.errors import IdCardError

    def one(data):
        try:
            parse_saved(data)
        except IdCardError:
            pass
        decoder = FrameDecoder()
        decoder.feed(data)
        for _ in range(len(data)):
            try:
                if decoder.take() is None:
                    break
            except IdCardError:
                pass

    atheris.Setup([sys.argv[0], *sys.argv[1:], "-runs=10000", "-seed=7", "-max_len=1400"], one)
    atheris.Fuzz()
    """
)


def test_atheris_fixed_budget(tmp_path):
    require(importlib.util.find_spec("atheris") is not None, "the atheris package (requirements.lock, Linux)")
    done = subprocess.run(
        [sys.executable, "-c", ATHERIS_RUN, f"-artifact_prefix={tmp_path}/"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Done 10000 runs" in done.stderr


@BUDGET
@given(st.binary(max_size=3000))
def test_folded_xor_equals_the_byte_loop(data):
    expected = 0
    for byte in data:
        expected ^= byte
    assert xor(data) == expected
