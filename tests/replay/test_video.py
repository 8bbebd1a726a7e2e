"""The H.264 writer: frames come back in order, at size, close to what was written, for odd layouts too."""
from __future__ import annotations

import re

import cv2
import numpy as np
import pytest

from embodied.replay.video import VideoWriter, psnr, read_frames, write_png


def _moving_frames(h: int, w: int, n: int = 12) -> list[np.ndarray]:
    """Smooth moving gradients with a coloured square: codec-friendly but distinct frames."""
    rng = np.random.default_rng(h)
    yy, xx = np.mgrid[:h, :w]
    frames = []
    for t in range(n):
        img = np.stack([xx * 200 // w + 5 * t, yy * 255 // h, np.full_like(xx, 40 + 15 * t)], -1)
        y0, x0 = rng.integers(0, h - 20), rng.integers(0, w - 20)
        img[y0:y0 + 20, x0:x0 + 20] = (250, 30, 30)
        frames.append(img.astype(np.uint8))
    return frames


def _write(path, frames, **kwargs):
    with VideoWriter(path, **kwargs) as writer:
        for f in frames:
            writer.write(f)
    return path


def _rate_control(path) -> list[bytes]:
    """The rate-control settings x264 records in the stream's SEI message."""
    return re.findall(rb" (?:rc|crf|qp)=[^ ]+", path.read_bytes())


@pytest.mark.parametrize("h,w", [(90, 198), (288, 768)])  # 90 rows: U/V planes are not whole rows of w
def test_round_trip(tmp_path, h, w):
    frames = _moving_frames(h, w)
    path = _write(tmp_path / "v.mp4", frames, fps=5)
    back, info = read_frames(path)
    assert (info["codec"], info["width"], info["height"], info["fps"]) == ("h264", w, h, 5.0)
    assert _rate_control(path) == [b" rc=cqp", b" qp=20"]  # the default: constant quantiser
    assert len(back) == 12
    for t, f in enumerate(back):  # 4:2:0 chroma blurs the saturated square's edges: ~30 dB, not 40
        own = psnr(f, frames[t])
        assert own > 28 and all(own > psnr(f, frames[j]) + 5 for j in (t - 1, t + 1) if 0 <= j < 12)


def test_rate_control_is_the_one_asked_for(tmp_path):
    frames = _moving_frames(96, 160, 6)
    crf = _write(tmp_path / "crf.mp4", frames, crf=23)
    assert _rate_control(crf) == [b" rc=crf", b" crf=23.0"]
    fine, coarse = _write(tmp_path / "fine.mp4", frames, qp=12), _write(tmp_path / "coarse.mp4", frames, qp=40)
    assert _rate_control(coarse) == [b" rc=cqp", b" qp=40"]
    assert coarse.stat().st_size < fine.stat().st_size / 2
    quality = {p.stem: min(psnr(a, b) for a, b in zip(read_frames(p)[0], frames)) for p in (fine, coarse)}
    assert quality["fine"] > quality["coarse"] + 1, quality  # both near the 4:2:0 chroma limit


def test_bad_frames_and_failed_writes_leave_nothing(tmp_path):
    with pytest.raises(ValueError, match="even frame sizes"):
        with VideoWriter(tmp_path / "odd.mp4") as writer:
            writer.write(np.zeros((33, 64, 3), np.uint8))
    with pytest.raises(ValueError, match="frame 1 is 64x32, the video is 64x34"):
        with VideoWriter(tmp_path / "mixed.mp4") as writer:
            writer.write(np.zeros((34, 64, 3), np.uint8))
            writer.write(np.zeros((32, 64, 3), np.uint8))
    with pytest.raises(ValueError, match="crf or qp, not both"):
        VideoWriter(tmp_path / "both.mp4", crf=20, qp=20)
    with pytest.raises(ValueError, match=r"qp=52: expected an integer in \[0, 51\]"):
        VideoWriter(tmp_path / "range.mp4", qp=52)
    with pytest.raises(ValueError, match=r"crf=20.5: expected an integer"):
        VideoWriter(tmp_path / "float.mp4", crf=20.5)
    assert list(tmp_path.iterdir()) == []  # neither a video nor a temp file is left behind


def test_png_is_lossless_rgb(tmp_path):
    frame = _moving_frames(90, 198, 1)[0]
    path = write_png(tmp_path / "still.png", frame)
    np.testing.assert_array_equal(cv2.imread(str(path))[..., ::-1], frame)
    assert [p.name for p in tmp_path.iterdir()] == ["still.png"]  # no temp file left
