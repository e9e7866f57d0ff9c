"""Which file a caption line names: extensions left out or other than the file's, folders in names."""

from mathlens.metrics.evaluate import load_samples


def test_caption_names_find_their_files(tmp_path):
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "ink").mkdir()
    for name in ("a.png", "b.jpg", "ink/c.inkml", "d.e.png"):
        (tmp_path / "img" / name).write_bytes(b"x")
    (tmp_path / "caption.txt").write_text("a\tx\nb.png\ty ^ { 2 }\nink/c\tz\nd.e\t1\n\nmissing\t2\n", encoding="utf-8")
    samples = load_samples(tmp_path)
    assert [s.image_path.relative_to(tmp_path / "img").as_posix() for s in samples] == [
        "a.png", "b.jpg", "ink/c.inkml", "d.e.png", "missing"]
    assert [s.reference for s in samples] == ["x", "y ^ { 2 }", "z", "1", "2"]
