"""Broken, truncated and hostile XML: refused with a clear error before anything is streamed."""

from __future__ import annotations

from pathlib import Path

import pytest

from biomock.replay import ReplayError, open_replay
from tests.replay.helpers import FIXTURES, read_until_error

RECORDS = "".join(
    ' <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Watch" unit="count/min" '
    f'startDate="2024-03-01 07:00:{s:02d} -0800" endDate="2024-03-01 07:00:{s:02d} -0800" '
    'value="70"/>\n'
    for s in range(5)
)

BILLION_LAUGHS = (
    """<?xml version="1.0"?>
<!DOCTYPE HealthData [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<HealthData locale="&lol9;">
"""
    + RECORDS.replace('sourceName="Watch"', 'sourceName="&lol9;"')
    + "</HealthData>\n"
)

EXTERNAL_ENTITY = (
    """<?xml version="1.0"?>
<!DOCTYPE HealthData [
 <!ELEMENT HealthData ANY>
 <!ENTITY secret SYSTEM "file:///etc/passwd">
]>
<HealthData locale="en_US">&secret;
"""
    + RECORDS
    + "</HealthData>\n"
)

PARAMETER_ENTITY = (
    """<?xml version="1.0"?>
<!DOCTYPE HealthData [
 <!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd">
 %remote;
]>
<HealthData locale="en_US">
"""
    + RECORDS
    + "</HealthData>\n"
)

EXTERNAL_DTD = (
    """<?xml version="1.0"?>
<!DOCTYPE HealthData SYSTEM "http://127.0.0.1:9/healthdata.dtd">
<HealthData locale="en_US">
"""
    + RECORDS
    + "</HealthData>\n"
)

PUBLIC_DTD = (
    """<?xml version="1.0"?>
<!DOCTYPE HealthData PUBLIC "-//Example//DTD Health//EN" "healthdata.dtd">
<HealthData locale="en_US">
"""
    + RECORDS
    + "</HealthData>\n"
)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (BILLION_LAUGHS, r"refused: the file declares the entity 'lol'"),
        (EXTERNAL_ENTITY, r"refused: the file declares the entity 'secret'"),
        (PARAMETER_ENTITY, r"refused: the file declares the entity 'remote'"),
        (EXTERNAL_DTD, r"refused: the DOCTYPE references an external DTD .*healthdata\.dtd"),
        (PUBLIC_DTD, r"refused: the DOCTYPE references an external DTD"),
    ],
    ids=["billion-laughs", "external-entity", "parameter-entity", "external-dtd", "public-dtd"],
)
def test_hostile_exports_are_refused_before_any_sample(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "export.xml"
    path.write_text(content, encoding="utf-8")
    got, error = read_until_error(path)
    assert got == []
    assert error is not None
    assert str(error).startswith(f"{path}: refused")
    assert "\n" not in str(error)
    with pytest.raises(ReplayError, match=message):
        open_replay(path, loop=False, shift_to_now=False, now_ms=0)


def test_a_truncated_export_names_where_it_ends(tmp_path: Path) -> None:
    whole = (FIXTURES / "export.xml").read_bytes()
    path = tmp_path / "export.xml"
    path.write_bytes(whole[: len(whole) * 2 // 3])
    with pytest.raises(ReplayError, match=r"export\.xml: malformed XML at line \d+, column \d+"):
        open_replay(path, loop=False, shift_to_now=False, now_ms=0)


@pytest.mark.parametrize(
    "content",
    [b"", b"not xml at all", b'<HealthData><Record type="x"></HealthData>', b"\xff\xfe\x00<"],
    ids=["empty", "text", "mismatched-tags", "binary"],
)
def test_broken_xml_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "export.xml"
    path.write_bytes(content)
    with pytest.raises(ReplayError, match=r"export\.xml: (malformed XML at line|no XML content)"):
        open_replay(path, loop=False, shift_to_now=False, now_ms=0)


def test_a_corrupt_zip_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    with pytest.raises(ReplayError, match=r"export\.zip: (not a readable zip|malformed|cannot)"):
        open_replay(path, loop=False, shift_to_now=False, now_ms=0)
