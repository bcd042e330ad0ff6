"""The gradient-flow picture: gradient norm against step, log scale."""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["plot_gradient_flow"]


def _curve(values, name) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """(centre, low, high) of one entry: a curve ``(T,)`` or curves ``(n, T)``
    drawn as their geometric mean with the min-max band."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 1:
        return _positive(arr), None, None
    if arr.ndim == 2 and arr.shape[0] >= 1:
        positive = _positive(arr)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a step with no positive value stays a gap
            return (np.exp(np.nanmean(np.log(positive), axis=0)), np.nanmin(positive, axis=0),
                    np.nanmax(positive, axis=0))
    raise ValueError(f"curve {name!r} has shape {arr.shape}; pass one value per step (T,) or several curves (n, T)")


def _positive(arr: np.ndarray) -> np.ndarray:
    """Zeros and non-finite values as NaN: a log axis cannot show them (gaps)."""
    return np.where(np.isfinite(arr) & (arr > 0), arr, np.nan)


def plot_gradient_flow(curves: dict, *, x="step", title=None, ylabel=None, ax=None):
    """Gradient norm through time, one line per entry, log-scale y axis.

    Parameters
    ----------
    curves : dict ``{label: norms}``, ``norms`` of shape ``(T,)`` (from
        :func:`gradient_norms_through_time`) or ``(n, T)`` (several seeds:
        drawn as the geometric mean with a min-max band). Curves may have
        different lengths. Zeros are gaps (a log axis cannot show them).
    x : {"step", "distance"}
        Horizontal axis: the step index ``t`` (0 = first step), or the
        distance from each curve's last step (0 = where a many-to-one loss
        reads the network), so curves of different lengths line up.
    title, ylabel : str, optional
    ax : matplotlib Axes, optional
        Draw into it; by default a new figure is made (no pyplot state).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if x not in ("step", "distance"):
        raise ValueError(f"x must be 'step' or 'distance', got {x!r}")
    if not isinstance(curves, dict) or not curves:
        raise ValueError("curves must be a non-empty dict {label: gradient norms per step}")
    if ax is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(6.4, 4.0), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    for label, values in curves.items():
        centre, low, high = _curve(values, label)
        steps = np.arange(len(centre))
        xs = steps if x == "step" else steps[::-1]
        (line,) = ax.plot(xs, centre, label=str(label).replace("$", r"\$"), linewidth=1.6)
        if low is not None:
            ax.fill_between(xs, low, high, color=line.get_color(), alpha=0.18, linewidth=0)
    ax.set_yscale("log")
    if x == "distance":
        ax.invert_xaxis()
        ax.set_xlabel("steps before the last step (the loss reads the network at 0)")
    else:
        ax.set_xlabel("step t")
    ax.set_ylabel(ylabel or r"$\|\partial L / \partial h_t\|$ (log scale)")
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3, which="major")
    ax.legend(frameon=False, fontsize="small")
    return fig
