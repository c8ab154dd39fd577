"""Image decoding in DataLoader workers: in order, open_clip's transform, one clean error per bad file."""

import open_clip
import pytest
import torch
from PIL import Image

from pipelines.encoders import ImageFileDataset, image_batches, load_rgb
from pipelines.errors import PipelineError

TRANSFORM = open_clip.image_transform(32, is_train=False)  # open_clip's own eval transform, at 32 px


@pytest.fixture
def images(tmp_path):
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 0, 0)]
    paths = []
    for index, colour in enumerate(colours):
        Image.new("RGB", (24, 16), colour).save(tmp_path / f"{index}.jpg", quality=95)
        paths.append(f"{index}.jpg")
    Image.new("L", (10, 10), 128).save(tmp_path / "grey.png")  # not RGB: converted
    return tmp_path, paths + ["grey.png"]


@pytest.mark.parametrize("workers", [0, 2])
def test_batches_keep_catalog_order(images, workers):
    root, paths = images
    batches = list(image_batches(paths, TRANSFORM, batch_size=4, workers=workers, root=root))
    assert [len(b) for b in batches] == [4, 2]
    pixels = torch.cat(batches)
    expected = torch.stack([TRANSFORM(Image.open(root / p).convert("RGB")) for p in paths])
    torch.testing.assert_close(pixels, expected)
    assert pixels[0, 0].mean() > pixels[0, 1].mean()  # the red one first


@pytest.mark.parametrize("workers", [0, 1])
def test_unreadable_image_is_named(images, workers):
    root, paths = images
    (root / "2.jpg").write_bytes((root / "2.jpg").read_bytes()[:40])  # truncated
    with pytest.raises(PipelineError, match=r"2\.jpg: cannot decode image .*rerun normalize") as error:
        list(image_batches(paths, TRANSFORM, batch_size=2, workers=workers, root=root))
    assert "\n" not in str(error.value)


def test_dataset_reports_errors_as_data(images):
    root, paths = images
    (root / "0.jpg").write_bytes(b"")
    dataset = ImageFileDataset(paths, TRANSFORM, root)
    pixels, error = dataset[0]
    assert pixels.shape == (3, 32, 32) and "0.jpg: cannot decode image" in error
    assert dataset[1][1] == ""
    assert load_rgb(root / "grey.png").mode == "RGB"
