"""eval: routers against baselines on held-out data (built in issue #5).

Not built yet: an honest placeholder that writes `status: not_implemented` and no numbers,
so every claim reading this stage's metrics is reported *not run*.
"""

from stages.common import ROOT, write_empty_plot, write_not_implemented


def main() -> None:
    write_not_implemented("eval")
    write_empty_plot(ROOT / "plots/eval_cost_quality.csv", ['router', 'cost', 'accuracy'])


if __name__ == "__main__":
    main()
