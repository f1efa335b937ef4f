"""Finding profiles: the admins' own (table ``source_profiles``) and the built-in ones, by name
or by a file's header (detection), resolved into what a load uses."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..loading.outcomes import LoadRefused
from ..loading.problems import FileRejected
from ..loading.readers import open_source
from ..models import SourceProfile
from .builtins import BUILTINS
from .definition import Definition, DefinitionError, from_json, loads
from .mapper import ProfileChecker


@dataclass(frozen=True)
class ResolvedProfile:
    """A profile ready for a load: its name and checked definition."""
    name: str
    definition: Definition
    builtin: bool = False
    id: int | None = None

    @property
    def dataset(self) -> str:
        return self.definition.dataset

    @property
    def identity_column(self) -> str | None:
        """With a key derived from a text id: the column that stores that id as it is."""
        columns = self.definition.columns
        for mapping in columns.values():
            if mapping.kind != 'hash_id':
                continue
            for name, other in columns.items():
                if other.kind == 'source' and other.sources == mapping.sources and not other.values:
                    return name
        return None

    def checker(self, spec, line, header, ctx, log, source) -> ProfileChecker:
        return ProfileChecker(spec, self.definition, self.name, line, header, ctx, log, source)


def builtin_profiles() -> list[ResolvedProfile]:
    return [ResolvedProfile(name, from_json(data, drop_unknown_columns=True), builtin=True)
            for name, data in BUILTINS.items()]


def stored_profiles() -> list[ResolvedProfile]:
    """The admins' profiles, by name; one whose definition no longer reads is left out (and
    logged), so that it cannot break detection."""
    found = []
    for row in db.session.scalars(select(SourceProfile).order_by(SourceProfile.name)):
        try:
            found.append(ResolvedProfile(row.name, loads(row.definition), id=row.id))
        except DefinitionError as error:
            current_app.logger.warning('Source profile %s is not usable: %s', row.name, error)
    return found


def all_profiles() -> list[ResolvedProfile]:
    return stored_profiles() + builtin_profiles()


def find_profile(name: str) -> ResolvedProfile | None:
    wanted = name.strip().lower()
    for profile in all_profiles():
        if profile.name.lower() == wanted:
            return profile
    return None


def resolve(name: str | None) -> ResolvedProfile | None:
    """The profile a load names (None: none); an unknown name refuses the load."""
    if not name:
        return None
    profile = find_profile(name)
    if profile is None:
        names = ', '.join(p.name for p in all_profiles())
        raise LoadRefused(f'There is no source profile named {name!r}. Profiles: {names}.')
    return profile


def detect(header: list[str], dataset: str | None = None) -> ResolvedProfile | None:
    """The profile whose signature the header carries (the longest signature wins; an admin's
    profile wins over a built-in one with as long a signature). None: no profile matches."""
    matches = [p for p in all_profiles() if p.definition.matches(header)
               and (dataset is None or p.dataset == dataset)]
    if not matches:
        return None
    return max(matches, key=lambda p: (len(p.definition.signature), not p.builtin))


def profile_names(dataset: str | None = None) -> list[str]:
    return [p.name for p in all_profiles() if dataset is None or p.dataset == dataset]


def file_header(path, encoding: str = 'auto') -> list[str]:
    """The first row of a file, for detection ([] when it cannot be read: the load says why)."""
    try:
        source = open_source(path, encoding)
    except (FileRejected, OSError, ValueError):
        return []
    try:
        first = next(source.rows(), None)
    except FileRejected:
        first = None
    finally:
        source.close()
    return first[1] if first else []
