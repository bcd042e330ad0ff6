"""Learning-rate schedules of the training engine, from ``torch.optim.lr_scheduler``.

One name per schedule (``TrainingConfig.lr_schedule``), built against the
optimizer and the epoch budget, stepped once per epoch:

- ``"cosine"``: ``CosineAnnealingLR`` from ``lr`` down to 0 over ``max_epochs``;
- ``"step"``: ``MultiStepLR``, ``lr`` divided by 10 at half and at three
  quarters of ``max_epochs`` (the classic step schedule);
- ``"plateau"``: ``ReduceLROnPlateau``, ``lr`` halved after 2 epochs without
  a lower monitored loss (the validation loss where there is one, else the
  training loss).
"""

from __future__ import annotations

import torch
from torch.optim.lr_scheduler import CosineAnnealingLR, LRScheduler, MultiStepLR, ReduceLROnPlateau

__all__ = ["LR_SCHEDULES", "make_scheduler", "step_scheduler"]

LR_SCHEDULES = ("cosine", "step", "plateau")


def make_scheduler(name: str | None, optimizer: torch.optim.Optimizer, max_epochs: int):
    """The scheduler ``name`` on ``optimizer`` for a run of ``max_epochs``
    epochs, or None for ``name=None`` (a constant learning rate)."""
    if name is None:
        return None
    if name == "cosine":
        return CosineAnnealingLR(optimizer, T_max=max(int(max_epochs), 1))
    if name == "step":
        milestones = sorted({max(1, max_epochs // 2), max(1, (3 * max_epochs) // 4)})
        return MultiStepLR(optimizer, milestones=milestones, gamma=0.1)
    if name == "plateau":
        return ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=2)
    raise ValueError(f"lr_schedule must be None or one of {LR_SCHEDULES}, got {name!r}")


def step_scheduler(scheduler: LRScheduler | ReduceLROnPlateau | None, monitored: float) -> None:
    """Advance ``scheduler`` by one epoch; ``monitored`` is the loss a
    plateau schedule watches (ignored by the others)."""
    if scheduler is None:
        return
    if isinstance(scheduler, ReduceLROnPlateau):
        scheduler.step(monitored)
    else:
        scheduler.step()
