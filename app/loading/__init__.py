"""Admin data loads: streaming CSV/xlsx validation, dry runs, all-or-nothing bulk writes per
dialect, history and undo. ``service.run_load`` is the pipeline the upload page and
``flask load`` share; ``undo.undo_batch`` reverses the most recent load of a dataset."""
from .batches import sweep_interrupted, undoable_batch_ids
from .outcomes import (
    MODE_HELP,
    MODES,
    DuplicateFile,
    LoadBusy,
    LoadOutcome,
    LoadRefused,
    LoadRequest,
)
from .problems import SHOWN_ON_PAGE, FileRejected, Problem, ProblemLog
from .service import run_load
from .undo import undo_batch, undo_refusal

__all__ = ['SHOWN_ON_PAGE', 'FileRejected', 'Problem', 'ProblemLog', 'MODE_HELP', 'MODES',
           'DuplicateFile', 'LoadBusy', 'LoadOutcome', 'LoadRefused', 'LoadRequest', 'run_load',
           'sweep_interrupted', 'undo_batch', 'undo_refusal', 'undoable_batch_ids']
