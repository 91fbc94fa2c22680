"""The AMI parser, sans I/O: the banner, packets across arbitrary TCP reads, case-insensitive keys,
empty and repeated values, garbage and overlong lines, LF-only input; the action encoder."""

from __future__ import annotations

from pathlib import Path

import pytest

from realtime.telephony.ami_protocol import MAX_LINE, AmiParser, Packet, encode

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ami"


def load(name: str, action_id: str = "1", now: int = 1718031340) -> bytes:
    """A transcript from tests/fixtures/ami as the PBX sends it (CRLF line ends)."""
    text = (FIXTURES / name).read_text().replace("{action_id}", action_id).replace("{now}", str(now))
    return text.replace("\n", "\r\n").encode()


def parse(data: bytes, chunk: int | None = None) -> tuple[AmiParser, list[Packet]]:
    parser = AmiParser()
    packets: list[Packet] = []
    step = chunk or len(data) or 1
    for i in range(0, len(data), step):
        packets += parser.feed(data[i:i + step])
    return parser, packets


def test_banner_then_packets() -> None:
    parser, packets = parse(b"Asterisk Call Manager/13.0.0\r\n" + load("login_ok.txt", "7"))
    assert parser.banner == "Asterisk Call Manager/13.0.0"
    assert [p.response or p.event for p in packets] == ["Success", "FullyBooted"]
    assert packets[0].action_id == "7" and packets[0]["message"] == "Authentication accepted"


def test_queue_status_transcript() -> None:
    _, packets = parse(load("queue_status.txt", "42"))
    assert [p.event or p.response for p in packets] == ["Success", "QueueParams", "QueueMember", "QueueMember",
                                                         "QueueEntry", "QueueStatusComplete"]
    assert all(p.action_id == "42" for p in packets)
    member = packets[2]
    assert (member["LOCATION"], member["pausedreason"], member.get("PausedReason")) == ("PJSIP/8001", "Lunch", "Lunch")
    assert packets[3]["PausedReason"] == ""  # an empty value is a value


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 1000])
def test_packets_split_across_reads(chunk: int) -> None:
    data = b"Asterisk Call Manager/13.0.0\r\n" + load("answered_call.txt") + load("abandoned_call.txt")
    whole = parse(data)[1]
    assert parse(data, chunk)[1] == whole
    assert [p.event for p in whole][:5] == ["QueueCallerJoin", "AgentCalled", "QueueCallerLeave", "AgentConnect",
                                           "AgentComplete"]


def test_a_partial_packet_waits_for_the_rest() -> None:
    parser = AmiParser()
    assert parser.feed(b"Event: Agent") == []
    assert parser.feed(b"Called\r\nInterface: PJSIP/1\r\n") == []
    [packet] = parser.feed(b"\r\n")
    assert (packet.event, packet["interface"]) == ("AgentCalled", "PJSIP/1")


def test_error_response_and_timestamp_header() -> None:
    _, [error] = parse(load("login_failed.txt", "3"))
    assert (error.response, error["Message"], error.action_id) == ("Error", "Authentication failed", "3")
    _, packets = parse(load("member_events.txt"))
    assert packets[1]["timestamp"] == "1718031510.250000"


def test_mixed_case_keys_and_repeated_keys() -> None:
    _, [packet] = parse(b"EVENT: VarSet\r\nvariable: A\r\nVariable: B\r\nuniqueID: 1.2\r\n\r\n")
    assert (packet.event, packet.get("UNIQUEID"), packet.get_all("variable")) == ("VarSet", "1.2", ["A", "B"])
    assert "Uniqueid" in packet and "Missing" not in packet


def test_garbage_and_unknown_events_are_tolerated() -> None:
    parser, packets = parse(load("noise.txt") + b"\x00\xff\xfe junk\r\n\r\n" + load("login_failed.txt"))
    assert [p.event or p.response for p in packets] == ["Newchannel", "VarSet", "SomethingFromTheFuture", "Error"]
    assert parser.garbage_lines == 2


def test_lf_only_line_ends() -> None:
    _, [packet] = parse(b"Event: Hangup\nUniqueid: 9.9\n\n")
    assert packet["uniqueid"] == "9.9"


def test_an_overlong_line_is_dropped_and_parsing_continues() -> None:
    parser = AmiParser()
    packets = parser.feed(b"Event: Big\r\nData: " + b"x" * (MAX_LINE + 10))
    packets += parser.feed(b"y" * 100 + b"\r\nMore: 1\r\n\r\n" + b"Event: Small\r\n\r\n")
    assert [p.event for p in packets] == ["Big", "Small"]
    assert packets[0].get("Data") is None and packets[0]["More"] == "1"
    assert parser.garbage_lines == 1


def test_encode_an_action() -> None:
    raw = encode("QueuePause", "fl-3", Interface="PJSIP/1", Paused="true", Reason="lunch\r\nAction: Logoff")
    assert raw == (b"Action: QueuePause\r\nActionID: fl-3\r\nInterface: PJSIP/1\r\nPaused: true\r\n"
                   b"Reason: lunch  Action: Logoff\r\n\r\n")  # no header injection
    _, [packet] = parse(raw)
    assert packet.get("Action") == "QueuePause"
