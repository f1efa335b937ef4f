"""Source profiles: load an integration platform's own export as it is. A profile maps the
platform's columns to a dataset's (definition.py, mappings.py), runs inside the load's single
pass (mapper.py), derives whole-number ids from text ids (ids.py), is stored by admins or built
in (store.py, builtins.py) and edited on the admin pages (views.py)."""
from .definition import Definition, DefinitionError
from .store import ResolvedProfile, all_profiles, detect, file_header, find_profile, resolve

__all__ = ['Definition', 'DefinitionError', 'ResolvedProfile', 'all_profiles', 'detect',
           'file_header', 'find_profile', 'resolve']
