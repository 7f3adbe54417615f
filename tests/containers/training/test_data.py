"""Reading channels: Ground Truth manifests, plain JSON lines, gzip, Pipe mode, RecordIO."""

from __future__ import annotations

import gzip
import io
import json
import struct
from pathlib import Path

import pytest
from textclf_train.data import load_training_data, read_channel
from textclf_train.environment import ChannelConfig, Paths
from textclf_train.errors import TrainingError
from textclf_train.hyperparameters import Hyperparameters
from textclf_train.recordio import RecordIOError, read_records

from tests.containers.conftest import examples, ground_truth_lines, make_job, plain_lines

HP = Hyperparameters(label_attribute="sentiment")


def pack(payload: bytes, flag: int = 0) -> bytes:
    return (
        struct.pack("<II", 0xCED7230A, flag << 29 | len(payload))
        + payload
        + b"\0" * (-len(payload) % 4)
    )


def test_recordio_records_and_split_records() -> None:
    magic = struct.pack("<I", 0xCED7230A)
    stream = pack(b"abc") + pack(b"first", 1) + pack(b"middle", 2) + pack(b"last", 3) + pack(b"")
    assert list(read_records(io.BytesIO(stream))) == [
        b"abc",
        b"first" + magic + b"middle" + magic + b"last",
        b"",
    ]


@pytest.mark.parametrize(
    ("stream", "message"),
    [
        (b"\x01\x02\x03\x04\x00\x00\x00\x00", "bad magic number 0x04030201 at byte 0"),
        (pack(b"abcdef")[:10], "stream ends inside a record at byte 10 (4 more bytes expected)"),
        (pack(b"x", 2), "continuation without a first part at byte 12"),
    ],
)
def test_broken_recordio_is_reported(stream: bytes, message: str) -> None:
    with pytest.raises(RecordIOError) as raised:
        list(read_records(io.BytesIO(stream)))
    assert str(raised.value) == message


def test_ground_truth_manifest_gzip_and_hidden_files(tmp_path: Path) -> None:
    make_job(tmp_path, {"train": {"a.manifest": ground_truth_lines(examples(5))}})
    folder = tmp_path / "input" / "data" / "train"
    (folder / "b.jsonl.gz").write_bytes(
        gzip.compress("\n".join(plain_lines(examples(3, seed=9), "sentiment")).encode())
    )
    (folder / ".cache").write_text("not data")
    data = read_channel(Paths(tmp_path), ChannelConfig("train"), HP)
    assert len(data.examples) == 8
    assert data.class_indices == {"billing": 0, "delivery": 1, "product": 2}


def test_conflicting_class_indices_are_reported(tmp_path: Path) -> None:
    lines = [
        json.dumps({"source": "a", "sentiment": 0, "sentiment-metadata": {"class-name": "good"}}),
        json.dumps({"source": "b", "sentiment": 0, "sentiment-metadata": {"class-name": "bad"}}),
    ]
    make_job(tmp_path, {"train": {"m.manifest": lines}})
    with pytest.raises(TrainingError) as raised:
        read_channel(Paths(tmp_path), ChannelConfig("train"), HP)
    assert str(raised.value) == (
        "channel 'train': 1 bad record(s): m.manifest line 2: class 'bad' has index 0 here but "
        "the data also pairs index 0 with 'bad' and index 0 with 'good'"
    )


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (
            {"source-ref": "s3://bucket/a.txt", "sentiment": "good"},
            "text stored in S3 (source-ref) is not supported; put the text inline under 'source'",
        ),
        ({"source": 3, "sentiment": "good"}, "'source' must be a string"),
        (
            {"source": "a"},
            "no 'sentiment' attribute (the label_attribute hyperparameter); keys here: source",
        ),
        (
            # An object Ground Truth could not label under "topic": only its metadata.
            {"source": "a", "topic-metadata": {"failure-reason": "no worker answered"}},
            "no 'sentiment' attribute (the label_attribute hyperparameter); this Ground "
            "Truth manifest labels 'topic': set label_attribute=topic",
        ),
        (
            # A chained job's manifest: the label of each job, and another key's metadata.
            {
                "source": "a",
                "source-metadata": {},
                "topic": 0,
                "topic-metadata": {"class-name": "billing"},
                "urgency": 1,
                "urgency-metadata": {"class-name": "high"},
            },
            "no 'sentiment' attribute (the label_attribute hyperparameter); this Ground "
            "Truth manifest labels 'topic', 'urgency': set label_attribute to the one to "
            "train on",
        ),
        (
            # Metadata of the configured attribute without the label (and no failure):
            # nothing else to suggest.
            {"source": "a", "sentiment-metadata": {"class-name": "good"}},
            "no 'sentiment' attribute (the label_attribute hyperparameter); keys here: "
            "sentiment-metadata, source",
        ),
        (
            {"source": "a", "sentiment": [0, 1]},
            "'sentiment' holds several labels; multi-label data is not supported (the classifier predicts one class per text)",
        ),
        ({"source": "a", "sentiment": -1}, "class index must not be negative (got -1)"),
        ({"source": "a", "sentiment": ""}, "'sentiment' must not be empty"),
        (
            {"source": "a", "sentiment": 1.5},
            "'sentiment' must be a class name or a class index (got float)",
        ),
        ([1, 2], "expected a JSON object, got list"),
    ],
)
def test_bad_records_say_what_is_wrong(tmp_path: Path, record: object, message: str) -> None:
    make_job(tmp_path, {"train": {"d.jsonl": [json.dumps(record)]}})
    with pytest.raises(TrainingError) as raised:
        read_channel(Paths(tmp_path), ChannelConfig("train"), HP)
    assert str(raised.value) == f"channel 'train': 1 bad record(s): d.jsonl line 1: {message}"


def test_many_bad_records_are_counted_and_the_first_five_shown(tmp_path: Path) -> None:
    make_job(tmp_path, {"train": {"d.jsonl": ["[]"] * 8}})
    with pytest.raises(TrainingError) as raised:
        read_channel(Paths(tmp_path), ChannelConfig("train"), HP)
    message = str(raised.value)
    assert message.startswith("channel 'train': 8 bad record(s): d.jsonl line 1: expected")
    assert message.count("expected a JSON object") == 5
    assert message.endswith("(and 3 more)")


def test_pipe_mode_without_recordio_reads_json_lines(tmp_path: Path) -> None:
    (tmp_path / "input" / "data").mkdir(parents=True)
    (tmp_path / "input" / "data" / "train_0").write_text(
        "\n".join(plain_lines(examples(4), "sentiment")) + "\n"
    )
    config = ChannelConfig("train", input_mode="Pipe", record_wrapper="None")
    assert len(read_channel(Paths(tmp_path), config, HP).examples) == 4


def test_augmented_manifest_streamed_without_recordio_is_explained(tmp_path: Path) -> None:
    (tmp_path / "input" / "data").mkdir(parents=True)
    (tmp_path / "input" / "data" / "train_0").write_bytes(b'my parcel is late1{"class-name": "x"}')
    config = ChannelConfig("train", input_mode="Pipe", record_wrapper="None")
    with pytest.raises(TrainingError) as raised:
        read_channel(Paths(tmp_path), config, HP)
    assert str(raised.value) == (
        "channel 'train': 1 bad record(s): train_0 line 1: not valid JSON (Expecting value "
        "at column 1). (A Pipe-mode channel without a record wrapper is read as JSON lines; "
        "for an AugmentedManifestFile channel set RecordWrapperType to RecordIO and "
        "AttributeNames to ['source', 'sentiment', 'sentiment-metadata'])"
    )


def test_recordio_stream_with_two_attributes_is_explained(tmp_path: Path) -> None:
    (tmp_path / "input" / "data").mkdir(parents=True)
    stream = b"".join(pack(b"some text") + pack(b"0") for _ in range(3))
    (tmp_path / "input" / "data" / "train_0").write_bytes(stream)
    config = ChannelConfig("train", input_mode="Pipe", record_wrapper="RecordIO")
    with pytest.raises(TrainingError) as raised:
        read_channel(Paths(tmp_path), config, HP)
    assert str(raised.value).startswith(
        "channel 'train': 2 bad record(s): train_0 object 1: third record is not the JSON "
        "object of 'sentiment-metadata'; the channel's AttributeNames must be "
        "['source', 'sentiment', 'sentiment-metadata']; train_0 object 2: "
    )


def test_validation_split_is_seeded_and_classes_need_two(tmp_path: Path) -> None:
    make_job(tmp_path, {"train": {"d.jsonl": plain_lines(examples(50), "sentiment")}})
    channels = {"train": ChannelConfig("train")}
    first = load_training_data(
        Paths(tmp_path),
        channels,
        Hyperparameters(label_attribute="sentiment", validation_fraction=0.2),
    )
    again = load_training_data(
        Paths(tmp_path),
        channels,
        Hyperparameters(label_attribute="sentiment", validation_fraction=0.2),
    )
    assert (len(first.train), len(first.validation)) == (40, 10)
    assert first == again
    make_job(tmp_path, {"train": {"d.jsonl": [json.dumps({"source": "x", "sentiment": "only"})]}})
    with pytest.raises(TrainingError) as raised:
        load_training_data(Paths(tmp_path), channels, HP)
    assert str(raised.value) == "a classifier needs at least 2 classes; the data has 1: 'only'"
