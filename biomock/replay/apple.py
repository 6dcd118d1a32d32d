"""Reading an Apple Health export (``export.zip`` or its ``export.xml``).

The file is stream-parsed (``XMLPullParser``, the incremental form of
``iterparse``) and every finished top-level element is cleared, so memory
stays flat however large the export is.

Hostile XML is refused by defusedxml's guarded parser: entity declarations
and external references, and also a DOCTYPE naming an external DTD, while
Apple's own internal DTD (ELEMENT and ATTLIST declarations only) is accepted.
All of these can only stand in the prolog, before the root element, so the
guard reads each chunk before the fast C parser does, up to the root element's
start tag, and nothing is yielded from a file that has them. The rest of the
document goes to the C parser only: defusedxml's own iterparse uses the
pure-Python parser, which is about half as fast on a gigabyte export.
"""

from __future__ import annotations

import contextlib
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, cast
from xml.etree.ElementTree import Element, ParseError, TreeBuilder, XMLPullParser

from defusedxml import DefusedXmlException, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser

from biomock.replay.apple_values import (
    BLOOD_PRESSURE,
    DIASTOLIC,
    HEALTHKIT_TYPES,
    SYSTOLIC,
    blood_pressure,
    bp_key,
    pair_loose_readings,
    record_sample,
    workout_samples,
)
from biomock.replay.errors import ReplayError
from biomock.sample import Sample

_CHUNK = 1 << 16
_BP_NAMES = frozenset({"blood_pressure_systolic", "blood_pressure_diastolic"})


class _ExternalDoctype(DefusedXmlException):
    def __init__(self, reference: str) -> None:
        super().__init__(reference)
        self.reference = reference


class _RootReached(Exception):
    pass


class _PrologGuard(DefusedXMLParser):
    """defusedxml's parser over the prolog; also refuses a DOCTYPE naming an external DTD."""

    def __init__(self) -> None:
        super().__init__(target=TreeBuilder(), forbid_dtd=False)
        self.parser.StartDoctypeDeclHandler = self._refuse_external_dtd
        self.parser.StartElementHandler = self._stop_at_root

    def passes(self, chunk: bytes) -> bool:
        """Check the next chunk; True once the root element is reached (the prolog passed).

        Raises:
            DefusedXmlException: for a refused declaration or reference.
        """
        try:
            self.feed(chunk)
        except _RootReached:
            return True
        except ParseError:
            return True  # not a guard matter: the C parser reports it with its position
        return False

    def _refuse_external_dtd(
        self, name: str, sysid: str | None, pubid: str | None, has_internal_subset: bool
    ) -> None:
        if sysid is not None or pubid is not None:
            raise _ExternalDoctype(sysid or pubid or "")

    def _stop_at_root(self, name: str, attributes: object) -> None:
        raise _RootReached


def read_apple_health(path: Path, unknown: Counter[str]) -> Iterator[Sample]:
    """Yield the samples of an Apple Health export, nearly in file order.

    Blood pressure is yielded once per reading, systolic (carrying
    ``extra={"diastolic": ...}``) then diastolic, whether the export holds it
    as a correlation, as loose records or (as Apple's do) as both; loose
    records come last. Workouts yield a ``start`` and an ``end`` event.
    Record and correlation types biomock has no type for are counted in
    ``unknown`` and skipped.

    Resource handling: the file is opened and closed here. Memory is flat
    except for blood pressure records outside a correlation, which are kept
    until the end to pair and de-duplicate them (a few a day at most).

    Raises:
        ReplayError: naming the file and the element or line at fault, for
            malformed XML, a refused declaration, or an element with bad values.
    """
    with contextlib.ExitStack() as stack:
        try:
            name, stream = _open_export(path, stack)
        except OSError as error:
            raise ReplayError(f"{path}: cannot read: {error.strerror or error}") from None
        except zipfile.BadZipFile as error:
            raise ReplayError(f"{path}: not a readable zip file: {error}") from None
        try:
            yield from _parse(name, stream, unknown)
        except ParseError as error:
            line, column = error.position
            raise ReplayError(f"{name}: malformed XML at line {line}, column {column}") from None
        except _ExternalDoctype as error:
            raise ReplayError(
                f"{name}: refused: the DOCTYPE references an external DTD "
                f"({error.reference!r}); only an internal DTD is accepted"
            ) from None
        except EntitiesForbidden as error:
            raise ReplayError(
                f"{name}: refused: the file declares the entity {error.name!r}; "
                "entity declarations are not accepted"
            ) from None
        except ExternalReferenceForbidden as error:
            raise ReplayError(
                f"{name}: refused: the file references the external entity {error.sysid!r}"
            ) from None
        except (OSError, zipfile.BadZipFile, EOFError) as error:
            raise ReplayError(f"{name}: cannot read: {error}") from None


def _open_export(path: Path, stack: contextlib.ExitStack) -> tuple[str, IO[bytes]]:
    if not zipfile.is_zipfile(path):
        return str(path), stack.enter_context(path.open("rb"))
    archive = stack.enter_context(zipfile.ZipFile(path))
    members = [
        info.filename
        for info in archive.infolist()
        if info.filename == "export.xml" or info.filename.endswith("/export.xml")
    ]
    if not members:
        raise ReplayError(f"{path}: no export.xml inside the zip file")
    member = min(members, key=len)
    return f"{path}:{member}", stack.enter_context(archive.open(member))


def _parse(name: str, stream: IO[bytes], unknown: Counter[str]) -> Iterator[Sample]:
    loose: list[Sample] = []
    correlated: set[tuple[str, int, float | int | str]] = set()
    ordinals: Counter[str] = Counter()
    depth = 0
    root: Element | None = None
    for event, element in _events(stream):
        if event == "start":
            depth += 1
            if root is None:
                if element.tag != "HealthData":
                    raise ReplayError(f"{name}: root element is <{element.tag}>, not <HealthData>")
                root = element
            continue
        depth -= 1
        if depth != 1:
            continue
        tag = element.tag
        ordinals[tag] += 1
        try:
            if tag == "Record":
                kind = element.get("type", "")
                type_name = HEALTHKIT_TYPES.get(kind)
                if type_name is None:
                    unknown[kind] += 1
                elif type_name in _BP_NAMES:
                    loose.append(record_sample(type_name, element.attrib))
                else:
                    yield record_sample(type_name, element.attrib)
            elif tag == "Workout":
                yield from workout_samples(element.attrib)
            elif tag == "Correlation":
                reading = _correlation(element, unknown)
                correlated.update(bp_key(sample) for sample in reading)
                yield from reading
        except ValueError as error:
            raise ReplayError(f"{name}: {_describe(element, ordinals[tag])}: {error}") from None
        assert root is not None
        root.clear()
    if root is None:
        raise ReplayError(f"{name}: no XML content")
    yield from pair_loose_readings(s for s in loose if bp_key(s) not in correlated)


def _events(stream: IO[bytes]) -> Iterator[tuple[str, Element]]:
    """``iterparse(stream, ("start", "end"))``, behind the prolog guard."""
    parser: XMLPullParser[Element] = XMLPullParser(("start", "end"))
    # With only start and end events asked for, every event is (name, element).
    events = cast(Callable[[], Iterator[tuple[str, Element]]], parser.read_events)
    guard: _PrologGuard | None = _PrologGuard()
    while chunk := stream.read(_CHUNK):
        if guard is not None and guard.passes(chunk):
            guard = None
        parser.feed(chunk)
        yield from events()
    parser.close()
    yield from events()


def _correlation(element: Element, unknown: Counter[str]) -> list[Sample]:
    kind = element.get("type", "")
    if kind != BLOOD_PRESSURE:
        unknown[kind] += 1
        return []
    inner = {record.get("type"): record for record in element.iter("Record")}
    upper, lower = inner.get(SYSTOLIC), inner.get(DIASTOLIC)
    if upper is None:
        raise ValueError("the blood pressure correlation has no systolic record")
    systolic = record_sample("blood_pressure_systolic", upper.attrib)
    if lower is None:
        return [systolic]
    return blood_pressure(systolic, record_sample("blood_pressure_diastolic", lower.attrib))


def _describe(element: Element, ordinal: int) -> str:
    """Name an element so that it can be found: ``<Record> 12 (type ..., startDate ...)``."""
    keys = ("type", "workoutActivityType", "startDate")
    said = ", ".join(f"{key} {element.get(key)!r}" for key in keys if element.get(key))
    return f"<{element.tag}> {ordinal}" + (f" ({said})" if said else "")
