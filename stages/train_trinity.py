"""train_trinity: sep-CMA-ES from scratch over the TRINITY vector (built in issue #5).

Not built yet: an honest placeholder that writes `status: not_implemented` and no numbers,
so every claim reading this stage's metrics is reported *not run*.
"""

from stages.common import ROOT, write_empty_plot, write_not_implemented


def main() -> None:
    write_not_implemented("train_trinity")
    write_empty_plot(ROOT / "plots/train_trinity_fitness.csv", ['generation', 'best_fitness', 'mean_fitness', 'sigma'])


if __name__ == "__main__":
    main()
