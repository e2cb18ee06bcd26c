"""stancewire.evaluate: the scoring math, the report and calibration on tiny hand-made inputs."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest

from schemas import Speaker, Stance, Topic
from stancewire.evaluate import (
    Counts,
    Labels,
    calibrate,
    format_score,
    item_date,
    labels_from_json,
    main,
    match_statements,
    predict,
    reliability,
    run,
    score,
)
from streams.detect import Detection

JP_RULES_OUT = ("JP", "treasury_holdings", "rules_out", "government")
JP_OPEN = ("JP", "treasury_holdings", "open", "government")
JP_OPEN_ANALYST = ("JP", "treasury_holdings", "open", "analyst")
CN_ACTING = ("CN", "trade_leverage", "acting", "government")
CA_THREATENS = ("CA", "trade_leverage", "threatens", "government")


def labels(*statements: tuple[str, str, str, str], relevant: bool | None = None) -> Labels:
    return Labels(
        relevant=bool(statements) if relevant is None else relevant,
        statements=frozenset(statements),
    )


# --- Counts ----------------------------------------------------------------------------------


def test_counts_precision_recall_f1_support() -> None:
    counts = Counts(tp=3, fp=1, fn=2)
    assert counts.precision == pytest.approx(0.75)
    assert counts.recall == pytest.approx(0.6)
    assert counts.f1 == pytest.approx(2 * 0.75 * 0.6 / (0.75 + 0.6))
    assert counts.support == 5


def test_counts_add_sets() -> None:
    counts = Counts()
    counts.add({"a", "b", "c"}, {"b", "c", "d"})
    counts.add([], ["e"])
    counts.add(["f"], [])
    assert (counts.tp, counts.fp, counts.fn) == (2, 2, 2)


def test_counts_add_ignores_duplicates() -> None:
    counts = Counts()
    counts.add(["JP", "JP"], ["JP"])
    assert (counts.tp, counts.fp, counts.fn) == (1, 0, 0)


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        (Counts(0, 0, 0), (1.0, 1.0, 1.0)),  # nothing expected, nothing predicted
        (Counts(0, 0, 2), (0.0, 0.0, 0.0)),  # everything missed
        (Counts(0, 2, 0), (0.0, 0.0, 0.0)),  # only false alarms
        (Counts(2, 0, 0), (1.0, 1.0, 1.0)),
    ],
)
def test_counts_edges(counts: Counts, expected: tuple[float, float, float]) -> None:
    assert (counts.precision, counts.recall, counts.f1) == expected


# --- score -----------------------------------------------------------------------------------


def test_relevant_is_binary_per_item() -> None:
    gold = {"a": labels(JP_OPEN), "b": labels(), "c": labels(CN_ACTING), "d": labels()}
    predicted = {
        "a": labels(JP_RULES_OUT),  # relevant, wrong statement: still a relevance hit
        "b": labels(CA_THREATENS),  # false alarm
        "c": labels(),  # missed
        "d": labels(),
    }
    row = score(gold, predicted).rows["relevant"]
    assert (row.tp, row.fp, row.fn) == (1, 1, 1)
    assert row.support == 2


def test_fields_are_micro_averaged_over_per_item_sets() -> None:
    gold = {
        "a": labels(JP_RULES_OUT, JP_OPEN_ANALYST),
        "b": labels(CN_ACTING),
    }
    predicted = {
        "a": labels(JP_OPEN),
        "b": labels(CN_ACTING, CA_THREATENS),
    }
    rows = score(gold, predicted).rows
    # government: a {JP} vs {JP}; b {CN} vs {CN, CA}
    assert (rows["government"].tp, rows["government"].fp, rows["government"].fn) == (2, 1, 0)
    # topic: a {treasury} vs {treasury}; b {trade} vs {trade}
    assert (rows["topic"].tp, rows["topic"].fp, rows["topic"].fn) == (2, 0, 0)
    # stance: a {rules_out, open} vs {open}; b {acting} vs {acting, threatens}
    assert (rows["stance"].tp, rows["stance"].fp, rows["stance"].fn) == (2, 1, 1)
    # speaker: a {government, analyst} vs {government}; b {government} vs {government}
    assert (rows["speaker"].tp, rows["speaker"].fp, rows["speaker"].fn) == (2, 0, 1)
    # statement: exact tuples; only CN_ACTING matches
    assert (rows["statement"].tp, rows["statement"].fp, rows["statement"].fn) == (1, 2, 2)


def test_per_stance_rows_restrict_the_tuples_to_one_class() -> None:
    gold = {"a": labels(JP_RULES_OUT, JP_OPEN_ANALYST), "b": labels(CN_ACTING)}
    predicted = {"a": labels(JP_OPEN), "b": labels(CN_ACTING, CA_THREATENS)}
    rows = score(gold, predicted).rows
    rules_out = rows["stance=rules_out"]
    assert (rules_out.tp, rules_out.fp, rules_out.fn) == (0, 0, 1)
    assert rules_out.recall == 0.0
    opened = rows["stance=open"]
    assert (opened.tp, opened.fp, opened.fn) == (0, 1, 1)
    assert (rows["stance=acting"].tp, rows["stance=acting"].fp) == (1, 0)
    assert (rows["stance=threatens"].fp, rows["stance=threatens"].support) == (1, 0)
    assert {name for name in rows if name.startswith("stance=")} == {
        f"stance={stance.value}" for stance in Stance
    }


def test_mismatches_list_items_that_differ() -> None:
    gold = {"a": labels(JP_OPEN), "b": labels(CN_ACTING), "c": labels(relevant=True)}
    predicted = {"a": labels(JP_OPEN), "b": labels(), "c": labels()}
    result = score(gold, predicted)
    assert [m.id for m in result.mismatches] == ["b", "c"]
    assert result.mismatches[0].gold == labels(CN_ACTING)
    assert result.mismatches[0].predicted == labels()


def test_missing_prediction_counts_as_irrelevant() -> None:
    result = score({"a": labels(JP_OPEN)}, {})
    assert result.rows["relevant"].fn == 1
    assert result.rows["statement"].fn == 1
    assert result.items == 1


def test_perfect_prediction() -> None:
    gold = {"a": labels(JP_OPEN), "b": labels()}
    result = score(gold, dict(gold))
    assert all(row.f1 == 1.0 for row in result.rows.values())
    assert result.mismatches == []


# --- parsing, prediction, printing -----------------------------------------------------------


def test_labels_from_json() -> None:
    item = {
        "id": "x",
        "relevant": True,
        "statements": [
            {
                "government": "JP",
                "topic": "treasury_holdings",
                "stance": "rules_out",
                "speaker": "government",
                "confidence": 0.9,
            }
        ],
    }
    assert labels_from_json(item) == labels(JP_RULES_OUT)
    assert labels_from_json({"id": "y", "relevant": False, "statements": []}) == labels()


def test_predict_uses_the_detector() -> None:
    def detector(text: str) -> list[Detection]:
        return [
            Detection(
                government="JP",
                topic=Topic.TREASURY_HOLDINGS,
                stance=Stance.RULES_OUT,
                speaker=Speaker.GOVERNMENT,
                confidence=0.9,
                evidence=text,
                cue="rules_out.test",
            )
        ]

    assert predict("anything", detector) == labels(JP_RULES_OUT)
    assert predict("anything", lambda _text: []) == labels()


def test_format_score_prints_rows_and_mismatches() -> None:
    text = format_score(score({"a": labels(JP_RULES_OUT)}, {"a": labels(JP_OPEN)}))
    for row in ("relevant", "government", "statement", "stance=rules_out", "stance=acting"):
        assert row in text
    assert "1 items differ" in text
    assert "JP/treasury_holdings/rules_out/government" in text
    assert "JP/treasury_holdings/open/government" in text


def _write_jsonl(path: Path, items: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")
    return path


def test_run_reads_both_files_and_writes_the_table(tmp_path: Path) -> None:
    wire = _write_jsonl(
        tmp_path / "wire.jsonl",
        [
            {"id": "1", "text": "Japan rules out selling its Treasury holdings.", "source": "t"},
            {"id": "2", "text": "Treasury yields rise after a weak auction."},
            {"id": "3", "text": "Not labelled, so not scored."},
        ],
    )
    labelled = _write_jsonl(
        tmp_path / "labels.jsonl",
        [
            {
                "id": "1",
                "relevant": True,
                "statements": [
                    dict(
                        zip(("government", "topic", "stance", "speaker"), JP_RULES_OUT, strict=True)
                    )
                ],
            },
            {"id": "2", "relevant": False, "statements": []},
        ],
    )
    out = io.StringIO()
    result = run(wire, labelled, out)
    assert result.items == 2
    assert result.rows["statement"].f1 == 1.0
    assert result.rows["relevant"].f1 == 1.0
    assert "0 items differ" in out.getvalue()
    assert main(wire, labelled, io.StringIO()) == 0


def test_run_rejects_labels_without_text(tmp_path: Path) -> None:
    wire = _write_jsonl(tmp_path / "wire.jsonl", [{"id": "1", "text": "nothing"}])
    labelled = _write_jsonl(
        tmp_path / "labels.jsonl", [{"id": "2", "relevant": False, "statements": []}]
    )
    with pytest.raises(ValueError, match="2"):
        run(wire, labelled, io.StringIO())


# --- one file with inline labels, matched accuracies, confusion, reliability ----------------


def _inline(path: Path) -> Path:
    statement = dict(zip(("government", "topic", "stance", "speaker"), JP_RULES_OUT, strict=True))
    return _write_jsonl(
        path,
        [
            {
                "id": "1",
                "text": "Kato says Japan will not sell its Treasury holdings as a weapon.",
                "relevant": True,
                "statements": [statement],
                "cite": "Example News, 2025-05-04, report",
            },
            {
                "id": "2",
                "text": "Treasury yields rise after a weak auction.",
                "relevant": False,
                "statements": [],
            },
        ],
    )


def test_run_one_file_with_inline_labels(tmp_path: Path) -> None:
    path = _inline(tmp_path / "dev.jsonl")
    out = io.StringIO()
    result = run(path, None, out)
    assert result.items == 2
    assert result.rows["statement"].f1 == 1.0
    assert result.accuracy["government"].value == 1.0
    text = out.getvalue()
    for heading in (
        "relevance",
        "government accuracy",
        "speaker accuracy",
        "stance macro-F1",
        "rules_out F1",
        "stance confusion",
        "reliability",
        "items differ",
    ):
        assert heading in text
    assert main(path, None, io.StringIO()) == 0


def test_inline_form_rejects_items_without_labels(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "x.jsonl", [{"id": "1", "text": "no labels here"}])
    with pytest.raises(ValueError, match="without inline labels"):
        run(path, None, io.StringIO())


def test_item_date_from_published_at_or_cite() -> None:
    assert item_date({"published_at": "2025-05-04T10:00:00+00:00"}) == date(2025, 5, 4)
    assert item_date({"cite": "Reuters, 2019-05-13, report"}) == date(2019, 5, 13)
    assert item_date({"cite": "generic market news"}) is None


def test_match_statements_pairs_by_agreement_within_a_topic() -> None:
    wrong_government = ("CN", "treasury_holdings", "rules_out", "government")
    assert match_statements([JP_RULES_OUT], [wrong_government]) == [
        (JP_RULES_OUT, wrong_government)
    ]
    # the best agreement wins: JP_OPEN agrees with JP_OPEN_ANALYST on three fields
    pairs = match_statements([JP_OPEN_ANALYST, CA_THREATENS], [JP_OPEN, CN_ACTING])
    assert (JP_OPEN_ANALYST, JP_OPEN) in pairs
    assert len(pairs) == 2
    assert match_statements([JP_RULES_OUT], [CN_ACTING]) == []  # other topic: unmatched


def test_government_and_speaker_accuracy_on_matched_pairs() -> None:
    gold = {"a": labels(JP_RULES_OUT), "b": labels(JP_OPEN_ANALYST)}
    predicted = {
        "a": labels(("CN", "treasury_holdings", "rules_out", "government")),
        "b": labels(JP_OPEN),
    }
    accuracy = score(gold, predicted).accuracy
    assert (accuracy["government"].correct, accuracy["government"].total) == (1, 2)
    assert (accuracy["speaker"].correct, accuracy["speaker"].total) == (1, 2)


def test_stance_confusion_is_per_slot_with_none() -> None:
    gold = {"a": labels(JP_RULES_OUT), "b": labels(CN_ACTING)}
    predicted = {"a": labels(JP_OPEN), "b": labels(CA_THREATENS)}
    result = score(gold, predicted)
    assert result.confusion[("rules_out", "open")] == 1
    assert result.confusion[("acting", "none")] == 1
    assert result.confusion[("none", "threatens")] == 1
    assert result.stance_macro_f1 == pytest.approx(0.0)


def test_reliability_bins_count_mean_and_accuracy() -> None:
    table = reliability([(0.95, True), (0.92, False), (0.55, True), (1.0, True)])
    by_low = {row[0]: row for row in table}
    assert by_low[0.9][2] == 3
    assert by_low[0.9][4] == pytest.approx(2 / 3)
    assert by_low[0.5][2:] == (1, 0.55, 1.0)
    assert by_low[0.0][2] == 0


def test_confidences_feed_the_reliability_table() -> None:
    predicted = Labels(
        relevant=True,
        statements=frozenset({JP_RULES_OUT, JP_OPEN}),
        confidences=((JP_RULES_OUT, 0.95), (JP_OPEN, 0.65)),
    )
    result = score({"a": labels(JP_RULES_OUT)}, {"a": predicted})
    by_low = {row[0]: row for row in result.reliability}
    assert by_low[0.9][2:] == (1, 0.95, 1.0)
    assert by_low[0.6][2:] == (1, 0.65, 0.0)
    assert result.mismatches[0].severity == (1, 0.65)


def test_calibrate_gives_lexicon_entries(tmp_path: Path) -> None:
    entries = calibrate(_inline(tmp_path / "dev.jsonl"))
    assert entries[0]["decision"] == "*"
    assert all(e["kind"] == "calibration" and 0 < e["confidence"] <= 1 for e in entries)
    assert any(e["decision"].startswith("rules_out/") for e in entries)
