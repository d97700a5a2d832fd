"""Crop + bilinear resize + normalization (docs/model.md section 3)."""
import cv2
import numpy as np
import pytest

from sctdiff.preprocess import normalize, padded_crop, preprocess, resize_bilinear, resize_taps, to_rgb

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def image(h=50, w=70, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize("side,out", [(57, 128), (300, 128), (128, 128), (40, 64), (64, 64), (1, 16), (129, 64)])
def test_resize_is_bit_identical_to_opencv_inter_linear_on_float(side, out):
    crop = padded_crop(image(), -13, 7, side)
    expected = cv2.resize(crop.astype(np.float32), (out, out), interpolation=cv2.INTER_LINEAR)
    got = resize_bilinear(crop, out)
    assert got.dtype == np.float32
    assert np.array_equal(got, expected)


def test_resize_taps_follow_half_pixel_formula():
    i0, i1, w = resize_taps(10, 4)  # scale 2.5: s = (o + .5) * 2.5 - .5 = 0.75, 3.25, 5.75, 8.25
    assert i0.tolist() == [0, 3, 5, 8] and i1.tolist() == [1, 4, 6, 9]
    np.testing.assert_array_equal(w, np.array([0.75, 0.25, 0.75, 0.25], dtype=np.float32))
    i0, i1, w = resize_taps(3, 8)  # upsampling clamps at both ends with zero weight
    assert i0[0] == 0 and w[0] == 0 and i0[-1] == 2 and i1[-1] == 2 and w[-1] == 0


def test_padded_crop_zero_outside_image_on_every_side():
    img = image(20, 30)
    crop = padded_crop(img, -5, -3, 40)
    assert crop.shape == (40, 40, 3)
    assert np.array_equal(crop[3:23, 5:35], img)
    assert crop[:3].max() == 0 and crop[:, :5].max() == 0 and crop[23:].max() == 0 and crop[:, 35:].max() == 0
    assert padded_crop(img, 100, 100, 8).max() == 0  # entirely outside
    with pytest.raises(ValueError, match="Expected a positive crop side"):
        padded_crop(img, 0, 0, 0)


def test_formats_all_reduce_to_rgb():
    rgb = image()
    assert np.array_equal(to_rgb(rgb[:, :, ::-1].copy(), "bgr"), rgb)
    rgba = np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 7, np.uint8)], axis=2)
    assert np.array_equal(to_rgb(rgba, "rgba"), rgb)
    gray = rgb[:, :, 0]
    assert np.array_equal(to_rgb(gray, "gray"), np.repeat(gray[:, :, None], 3, axis=2))
    with pytest.raises(ValueError, match="Expected 3 channels for rgb"):
        to_rgb(rgba, "rgb")
    with pytest.raises(ValueError, match="Expected a pixel format"):
        to_rgb(rgb, "yuv")


def test_normalization_is_the_float32_formula():
    pixels = np.arange(256, dtype=np.float32).reshape(16, 16, 1).repeat(3, axis=2)
    out = normalize(pixels, MEAN, STD)
    assert out.shape == (3, 16, 16) and out.dtype == np.float32
    v = np.float32(200.0)
    expected = (v / np.float32(255.0) - np.float32(0.456)) / np.float32(0.224)
    assert out[1].reshape(-1)[200] == expected


def test_same_size_crop_inside_image_is_a_copy_then_normalized():
    img = image(40, 40)
    out = preprocess(img, "rgb", 4, 6, 32, 32, MEAN, STD)
    expected = normalize(img[6:38, 4:36].astype(np.float32), MEAN, STD)
    assert np.array_equal(out, expected)


def test_full_pipeline_matches_opencv_reference_implementation():
    # The OSTrack way: copyMakeBorder with zeros, crop, cv2.resize (on float to avoid cv2's
    # fixed-point uint8 path), then /255 - mean / std.
    img = image(60, 80, seed=3)
    x0, y0, side, out = -10, 35, 52, 128
    padded = cv2.copyMakeBorder(img, 100, 100, 100, 100, cv2.BORDER_CONSTANT, value=0)
    crop = padded[y0 + 100:y0 + 100 + side, x0 + 100:x0 + 100 + side].astype(np.float32)
    resized = cv2.resize(crop, (out, out), interpolation=cv2.INTER_LINEAR)
    expected = ((resized / np.float32(255)) - np.array(MEAN, np.float32)) / np.array(STD, np.float32)
    got = preprocess(img[:, :, ::-1].copy(), "bgr", x0, y0, side, out, MEAN, STD)
    assert np.array_equal(got, expected.transpose(2, 0, 1))
