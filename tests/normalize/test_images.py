"""Every image decoded: zero-byte, truncated, garbage and missing files are found, in parallel too."""

import pytest
from PIL import ImageFile

from pipelines.errors import PipelineError
from pipelines.normalize.images import check_images, require_readable


@pytest.fixture
def images(tmp_path, make_image, make_truncated):
    good = [str(make_image(tmp_path / f"ok{i}.jpg")) for i in range(5)]
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    garbage = tmp_path / "garbage.jpg"
    garbage.write_bytes(b"not a jpeg at all" * 10)
    truncated = make_truncated(tmp_path / "truncated.jpg")
    return good + [str(empty), str(garbage), str(truncated), str(tmp_path / "missing.jpg")]


@pytest.mark.parametrize("workers", [1, 2])
def test_unreadable_images_are_found_with_their_reason(images, workers):
    check = check_images(images, workers=workers, chunk_size=2)
    assert check.readable == [True] * 5 + [False] * 4
    assert [r.split(":")[0] for r in check.reasons[5:]] == ["empty", "undecodable", "undecodable", "missing"]
    assert check.reason_counts() == {"missing": 1, "empty": 1, "undecodable": 2}
    assert (check.total, check.unreadable, round(check.share, 4)) == (9, 4, 0.5556)


def test_truncated_image_fails_to_load_not_only_verify(tmp_path, make_truncated):
    path = make_truncated(tmp_path / "t.jpg")
    assert "undecodable" in check_images([str(path)], workers=1).reasons[0]


def test_readable_share_below_threshold_names_count_share_and_examples(images, tmp_path):
    check = check_images(images, workers=1)
    files = [p.rsplit("/", 1)[-1] for p in images]
    with pytest.raises(PipelineError) as err:
        require_readable(check, files, 0.99, tmp_path)
    message = str(err.value)
    assert "only 5 of 9 images decode (55.56%; data.min_readable is 99.00%); 4 unreadable" in message
    assert "empty.jpg (empty)" in message and "missing.jpg (missing)" in message
    require_readable(check, files, 0.5, tmp_path)  # above the threshold: no error


def test_load_truncated_images_must_stay_off(images, monkeypatch):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(PipelineError, match="LOAD_TRUNCATED_IMAGES is True"):
        check_images(images, workers=1)
