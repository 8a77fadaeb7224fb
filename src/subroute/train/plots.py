"""Training curves as PNG: SFT loss, and GRPO reward, accuracy and cost per iteration."""

from __future__ import annotations

from pathlib import Path


def plot_history(history: list[dict], path: str | Path, *, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sft = [h for h in history if h.get("phase") == "sft"]
    grpo = [h for h in history if h.get("phase") == "grpo"]
    n = 1 + bool(grpo)
    fig, axes = plt.subplots(1, n, figsize=(5.5 * n, 3.8), squeeze=False)
    ax = axes[0][0]
    if sft:
        ax.plot([h["step"] for h in sft], [h["loss"] for h in sft], color="tab:blue")
    ax.set(title="SFT", xlabel="step", ylabel="cross-entropy loss")
    ax.grid(alpha=0.3)
    if grpo:
        ax = axes[0][1]
        for key, color in (("reward", "tab:green"), ("accuracy", "tab:blue"), ("cost", "tab:red")):
            pts = [(h["step"], h[key]) for h in grpo if key in h]
            if pts:
                ax.plot(*zip(*pts), label=key if key != "cost" else "cost (relative to the largest model)", color=color)
        ax.set(title="GRPO (sampled rollouts)", xlabel="iteration")
        ax.legend(loc="best", fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
