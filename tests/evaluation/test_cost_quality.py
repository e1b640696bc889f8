"""Cost–quality: the headline is the cheapest router setting within best single's CI, never a single model."""

from fugu.evaluation.cost_quality import cheapest_within_ci, curve_plot_rows, curve_row

BEST_SINGLE = {"accuracy": {"estimate": 0.7, "ci": [0.6, 0.8]}, "estimated_usd_per_1k": {"estimate": 2.0}}


def point(router, accuracy, cost, kind="router", penalty=0.0):
    return {"router": router, "kind": kind, "cost_penalty": None if kind == "single" else penalty,
            "accuracy": accuracy, "accuracy_ci": [accuracy - 0.1, accuracy + 0.1], "estimated_usd_per_1k": cost}


def test_the_headline_is_the_cheapest_router_setting_inside_best_singles_interval():
    curve = [point("knn", 0.65, 0.5, penalty=0.3), point("knn", 0.75, 1.5), point("mf", 0.55, 0.1),
             point("cheap-model", 0.61, 0.05, kind="single")]
    headline = cheapest_within_ci(curve, BEST_SINGLE)
    assert headline["found"] and headline["router"] == "knn" and headline["cost_penalty"] == 0.3
    assert headline["cost_fraction_of_best_single"] == 0.25 and headline["estimated"] is True


def test_equal_costs_go_to_the_more_accurate_setting():
    headline = cheapest_within_ci([point("a", 0.62, 1.0), point("b", 0.7, 1.0)], BEST_SINGLE)
    assert headline["router"] == "b"


def test_no_router_inside_the_interval_is_said_so():
    headline = cheapest_within_ci([point("mf", 0.5, 0.1)], BEST_SINGLE)
    assert headline == {"found": False, "best_single_accuracy_ci": [0.6, 0.8], "estimated": True}


def test_a_curve_row_reads_the_router_and_its_cost_weight_off_the_name():
    entry = {"accuracy": {"estimate": 0.5, "ci": [0.4, 0.6]}, "estimated_usd_per_1k": {"estimate": 1.25}}
    assert curve_row("knn_hidden@0.03", entry) == {"router": "knn_hidden", "kind": "router", "cost_penalty": 0.03,
                                                   "accuracy": 0.5, "accuracy_ci": [0.4, 0.6],
                                                   "estimated_usd_per_1k": 1.25}
    single = curve_row("single:gpt", entry)
    assert single["router"] == "gpt" and single["kind"] == "single" and single["cost_penalty"] is None


def test_the_plot_lists_each_router_by_cost_with_its_cost_marked_estimated():
    rows = curve_plot_rows([point("mf", 0.5, 0.3), point("knn", 0.6, 0.9), point("mf", 0.4, 0.1)])
    assert [(r["router"], r["cost"]) for r in rows] == [("knn", 0.9), ("mf", 0.1), ("mf", 0.3)]
    assert all("ESTIMATED" in r["data"] for r in rows)
