"""Admin data loads: streaming CSV/xlsx validation, dry runs, all-or-nothing bulk writes per
dialect, history and undo. ``service`` is the pipeline the upload page and ``flask load`` share."""
from .problems import SHOWN_ON_PAGE, FileRejected, Problem, ProblemLog
from .service import (MODE_HELP, MODES, DuplicateFile, LoadBusy, LoadOutcome, LoadRefused,
                      LoadRequest, run_load, sweep_interrupted, undo_batch, undo_refusal,
                      undoable_batch_ids)

__all__ = ['SHOWN_ON_PAGE', 'FileRejected', 'Problem', 'ProblemLog', 'MODE_HELP', 'MODES',
           'DuplicateFile', 'LoadBusy', 'LoadOutcome', 'LoadRefused', 'LoadRequest', 'run_load',
           'sweep_interrupted', 'undo_batch', 'undo_refusal', 'undoable_batch_ids']
