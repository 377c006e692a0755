"""Read the Switchboard Salesforce package (``salesforce/``, SFDX source format) from Python.

Used by the package tests and by drift tests that compare the fields the code writes with the fields
the package defines. Only the standard library is used (``xml.etree``).

Task and Event custom fields are defined on the shared ``Activity`` object in metadata
(``objects/Activity/fields``); :func:`package_fields` reports them under "Activity" and "Task".
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

NS = "http://soap.sforce.com/2006/04/metadata"
REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_ROOT = REPO_ROOT / "salesforce"
SOURCE_ROOT = PACKAGE_ROOT / "force-app" / "main" / "default"
FIELD_SUFFIX = ".field-meta.xml"


def q(tag: str) -> str:
    """``tag`` in the Metadata API namespace, for ElementTree lookups."""
    return f"{{{NS}}}{tag}"


def parse(path: Path) -> ET.Element:
    """The root element of a metadata file (raises ``ET.ParseError`` when it is not well formed)."""
    return ET.parse(path).getroot()


def text(element: ET.Element, tag: str, default: str | None = None) -> str | None:
    """Text of the direct child ``tag`` of ``element`` (namespaced), else ``default``."""
    child = element.find(q(tag))
    return default if child is None or child.text is None else child.text.strip()


@dataclass(frozen=True)
class FieldSpec:
    """One custom field of the package, as its ``.field-meta.xml`` declares it."""

    object: str
    name: str
    label: str
    type: str
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    external_id: bool = False
    unique: bool = False
    case_sensitive: bool = False
    picklist_values: tuple[str, ...] = ()
    restricted: bool = False


def _int(value: str | None) -> int | None:
    return None if value is None else int(value)


def _bool(value: str | None) -> bool:
    return value == "true"


def read_field(path: Path, object_name: str | None = None) -> FieldSpec:
    """The field declared by one ``<Name>.field-meta.xml`` file."""
    root = parse(path)
    values = root.find(q("valueSet"))
    picklist: tuple[str, ...] = ()
    restricted = False
    if values is not None:
        restricted = _bool(text(values, "restricted"))
        definition = values.find(q("valueSetDefinition"))
        if definition is not None:
            picklist = tuple(text(v, "fullName") or "" for v in definition.findall(q("value")))
    return FieldSpec(
        object=object_name or path.parent.parent.name,
        name=text(root, "fullName") or "",
        label=text(root, "label") or "",
        type=text(root, "type") or "",
        length=_int(text(root, "length")),
        precision=_int(text(root, "precision")),
        scale=_int(text(root, "scale")),
        external_id=_bool(text(root, "externalId")),
        unique=_bool(text(root, "unique")),
        case_sensitive=_bool(text(root, "caseSensitive")),
        picklist_values=picklist,
        restricted=restricted,
    )


def field_files(source_root: Path = SOURCE_ROOT) -> dict[str, list[Path]]:
    """Object folder name (``Activity``, ``Case``, ...) → its custom field files, sorted."""
    out: dict[str, list[Path]] = {}
    for path in sorted((source_root / "objects").glob(f"*/fields/*{FIELD_SUFFIX}")):
        out.setdefault(path.parent.parent.name, []).append(path)
    return out


def package_field_specs(source_root: Path = SOURCE_ROOT) -> dict[str, dict[str, FieldSpec]]:
    """Object folder name → field API name → :class:`FieldSpec` (``Activity`` is not copied to Task here)."""
    return {
        obj: {spec.name: spec for spec in (read_field(p, obj) for p in paths)}
        for obj, paths in field_files(source_root).items()
    }


def package_fields(source_root: Path = SOURCE_ROOT) -> dict[str, set[str]]:
    """Object API name → the custom field API names the package defines on it.

    Activity fields are reported under both "Activity" (where metadata defines them) and "Task"
    (where the REST API writes them), e.g. ``package_fields()["Task"] >= {"Call_Id__c"}``.
    """
    out: dict[str, set[str]] = {}
    for obj, paths in field_files(source_root).items():
        names = {p.name.removesuffix(FIELD_SUFFIX) for p in paths}
        out.setdefault(obj, set()).update(names)
        if obj == "Activity":
            out.setdefault("Task", set()).update(names)
    return out


def permission_set_fields(name: str, source_root: Path = SOURCE_ROOT) -> dict[str, tuple[bool, bool]]:
    """``Object.Field`` → (readable, editable) granted by permission set ``name``."""
    root = parse(source_root / "permissionsets" / f"{name}.permissionset-meta.xml")
    return {
        text(fp, "field") or "": (_bool(text(fp, "readable")), _bool(text(fp, "editable")))
        for fp in root.findall(q("fieldPermissions"))
    }


def record_types(source_root: Path = SOURCE_ROOT) -> set[str]:
    """``Object.RecordType`` names the package defines."""
    return {
        f"{p.parent.parent.name}.{p.name.removesuffix('.recordType-meta.xml')}"
        for p in (source_root / "objects").glob("*/recordTypes/*.recordType-meta.xml")
    }
