from pathlib import Path

from mathlens.data.manifest import Record, read_manifest, write_manifest


def test_a_manifest_written_before_a_normalizer_change_reads_in_the_current_form(tmp_path):
    old_form = ("{", "\\cal", "L", "}", "^", "{", "\\prime", "}")  # as session-5 renders stored it
    write_manifest(tmp_path / "m.jsonl", [Record(Path("a.png"), old_form, "printed", 110.0)])
    (record,) = read_manifest(tmp_path / "m.jsonl")
    assert record.tokens == ("\\mathcal", "{", "L", "}", "'")
    assert (record.image_path, record.source, record.dpi) == (tmp_path / "a.png", "printed", 110.0)
