"""Learning curves and a confusion heat map, drawn with matplotlib (the optional ``plot`` extra)."""

from __future__ import annotations

import warnings

__all__ = ["plot_training"]


def plot_training(records: list, path, confusion=None, format=None) -> None:
    """Learning curves (train loss; dev P / R / F1 per epoch), and a confusion heat map.

    Parameters
    ----------
    records : list of dict
        Lines of a training log (``epoch``, ``train_loss``, optional ``dev``).
    path : str or binary file
        Image file; the format follows its extension (``.png``, ``.pdf``, ``.svg``) unless given.
    confusion : (ndarray of shape (K, K), list of str), optional
        Token counts, gold classes down, predicted across, and the class names.
    format : str, optional
        matplotlib's name of the image format ("png", "pdf", "svg"); needed for a file object.

    Raises
    ------
    ImportError
        When matplotlib is not installed.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    n_axes = 2 + (confusion is not None)
    fig, axes = plt.subplots(1, n_axes, figsize=(5 * n_axes, 4))
    epochs = [r["epoch"] for r in records]
    axes[0].plot(epochs, [r["train_loss"] for r in records], marker="o")
    axes[0].set(title="training loss", xlabel="epoch", ylabel="mean loss")
    dev = [(r["epoch"], r["dev"]) for r in records if r.get("dev")]
    if dev:
        for key in ("precision", "recall", "f1"):
            axes[1].plot([e for e, _ in dev], [d[key] for _, d in dev], marker="o", label=key)
        axes[1].legend()
    else:
        axes[1].text(0.5, 0.5, "no dev scores\n(trained without --dev)", ha="center", va="center")
    axes[1].set(title="dev entity scores (conlleval)", xlabel="epoch", ylabel="percent")
    if confusion is not None:
        matrix, labels = confusion
        ax = axes[2]
        # Row-normalized, so rare classes are as readable as O; the counts are written in the cells.
        totals = matrix.sum(axis=1, keepdims=True)
        shares = matrix / totals.clip(min=1)
        image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
        fig.colorbar(image, ax=ax, fraction=0.046)
        shown = [_label(label) for label in labels]
        ax.set_xticks(range(len(labels)), shown, rotation=45)
        ax.set_yticks(range(len(labels)), shown)
        ax.set(title="confusion (share of gold row)", xlabel="predicted", ylabel="gold")
        for i in range(len(labels)):
            for j in range(len(labels)):
                ax.text(
                    j,
                    i,
                    str(int(matrix[i, j])),
                    ha="center",
                    va="center",
                    color="white" if shares[i, j] > 0.5 else "black",
                    fontsize=8,
                )
    for ax in axes[:2]:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    with warnings.catch_warnings():  # a layout that cannot fit (very long labels) is cosmetic, not an error
        warnings.simplefilter("ignore", UserWarning)
        fig.tight_layout()
    fig.savefig(path, format=format)
    plt.close(fig)


def _label(name: str, width: int = 24) -> str:
    """A class name for a tick: control characters escaped, long names cut."""
    name = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(name))
    return name if len(name) <= width else name[: width - 1] + "…"
