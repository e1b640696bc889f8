"""train_conductor: GRPO on the Conductor (built in issue #7).

Not built yet: an honest placeholder that writes `status: not_implemented` and no numbers,
so every claim reading this stage's metrics is reported *not run*.
"""

from stages.common import ROOT, write_empty_plot, write_not_implemented


def main() -> None:
    write_not_implemented("train_conductor")
    write_empty_plot(ROOT / "plots/train_conductor_reward.csv", ['step', 'mean_reward'])


if __name__ == "__main__":
    main()
