"""Inbox folders: files that integration platforms drop on a share are loaded by the ``inbox``
job through the same validated, all-or-nothing pipeline as an upload.

- ``folder``: what the job does with the files themselves (which are waiting, which have
  settled, moving them to ``processed/`` or ``rejected/`` under names that never collide),
  and the admin page's *Check folder*.
- ``processing``: one tick over one inbox.
"""
