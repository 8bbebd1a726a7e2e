"""Frame composition: panels are scaled exactly as OpenCV's resize would, into their own third of the frame."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from embodied.replay import frames as fr


@pytest.mark.parametrize("rows,cols,size", [(64, 64, 256), (64, 64, 100), (48, 80, 256), (90, 90, 128),
                                            (256, 256, 256), (300, 280, 256)])
def test_panels_match_a_plain_resize_and_stay_in_place(rows, cols, size):
    rng = np.random.default_rng(rows * cols)
    rgb = rng.integers(0, 256, (rows, cols, 3), np.uint8)
    depth = rng.uniform(0, 12, (rows, cols, 1)).astype(np.float32)
    top = rng.integers(0, 256, (size, size, 3), np.uint8)
    frame = fr.compose(rgb, depth, top, [("step 1/9", (255, 255, 255))], size=size, max_depth=10.0)
    interp = cv2.INTER_NEAREST if rows < size else cv2.INTER_AREA  # nearest keeps the agent's pixels
    np.testing.assert_array_equal(frame[:size, :size], cv2.resize(rgb, (size, size), interpolation=interp))
    np.testing.assert_array_equal(frame[:size, size:2 * size],
                                  cv2.resize(fr.depth_image(depth, 10.0), (size, size), interpolation=interp))
    np.testing.assert_array_equal(frame[:size, 2 * size:], top)
    assert frame.shape == fr.frame_shape(size) and (frame[size:] != 24).any()  # the HUD text is drawn
