"""Synthetic tracking sequences composited from real photos, with exact ground truth.

A sequence is a target cut out of one photo (a random soft-edged shape) moving over a
background taken from another photo, seen through a slowly panning and zooming camera.
Everything that varies over time is a smooth random curve fixed at construction, so any
frame can be rendered on its own, in any order (the DataLoader renders only the few frames a
training sample needs), and the same seed always gives the same pixels.

What makes the sequences hard, each switched on per sequence with its own probability:
smooth non-linear motion with changes of speed, scale and aspect change, in-plane rotation,
look-alike distractors (recoloured copies of the target), occluders cut from a third photo
that pass in front of the target (partial and full occlusion), leaving the frame, motion
blur, defocus, illumination change and sensor noise.

Ground truth per frame: the axis-aligned box of the target's visible extent inside the frame
(x, y, w, h in pixels), its visible fraction, GOT-10k's cover level 0..8 and absence flag.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import cv2
import numpy as np

from .photos import PhotoLibrary


@dataclass(frozen=True)
class SynthConfig:
    """Knobs of the generator. Sizes are in frame pixels; probabilities are per sequence."""

    length: int = 100
    width: int = 320
    height: int = 240
    # Target size as sqrt(area) / min(width, height), drawn log-uniformly.
    target_min: float = 0.08
    target_max: float = 0.4
    # Typical per-frame speed as a fraction of the target size (fast motion at the top end).
    speed_max: float = 0.25
    scale_change: float = 0.5  # max |log scale| change over the sequence
    aspect_change: float = 0.35  # max |log aspect| change over the sequence
    rotation_max_deg: float = 25.0
    p_rotation: float = 0.5
    p_distractors: float = 0.5
    max_distractors: int = 3
    p_occluder: float = 0.5
    p_full_occlusion: float = 0.3  # given an occluder, make it large enough to hide the target
    p_leave_frame: float = 0.1
    p_motion_blur: float = 0.4
    p_defocus: float = 0.2
    p_illumination: float = 0.6
    p_camera_motion: float = 0.7
    noise_sigma_max: float = 6.0


def _smooth_curve(rng: np.random.Generator, length: int, smoothness: float) -> np.ndarray:
    """Random smooth curve over `length` frames, scaled to max |value| = 1.

    A random walk low-passed by a Gaussian of `smoothness` frames: it drifts, speeds up
    and turns, unlike a single sinusoid whose motion a tracker could learn to predict.
    """
    pad = int(3 * smoothness) + 1
    walk = np.cumsum(rng.standard_normal(length + 2 * pad))
    kernel = np.exp(-0.5 * (np.arange(-pad, pad + 1) / smoothness) ** 2)
    smooth = np.convolve(walk, kernel / kernel.sum(), mode="same")[pad:pad + length]
    smooth = smooth - smooth[0]
    peak = float(np.abs(smooth).max())
    return smooth / peak if peak > 1e-9 else smooth


def _random_mask(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Soft-edged float32 mask in [0, 1]: ellipse, rounded rectangle, blob, or full rectangle."""
    mask = np.zeros((height, width), np.uint8)
    kind = rng.choice(["ellipse", "rounded", "blob", "rect"], p=[0.3, 0.2, 0.35, 0.15])
    if kind == "ellipse":
        cv2.ellipse(mask, (width // 2, height // 2), (max(1, width // 2 - 1), max(1, height // 2 - 1)), 0, 0, 360, 255, -1)
    elif kind == "rounded":
        r = int(min(width, height) * rng.uniform(0.1, 0.3))
        cv2.rectangle(mask, (r, 0), (width - 1 - r, height - 1), 255, -1)
        cv2.rectangle(mask, (0, r), (width - 1, height - 1 - r), 255, -1)
        for cx, cy in [(r, r), (width - 1 - r, r), (r, height - 1 - r), (width - 1 - r, height - 1 - r)]:
            cv2.circle(mask, (cx, cy), r, 255, -1)
    elif kind == "blob":
        n = 16
        angles = np.linspace(0, 2 * np.pi, n, endpoint=False)
        radius = 1.0 - 0.35 * rng.random(n)
        radius = np.convolve(np.r_[radius[-2:], radius, radius[:2]], np.ones(5) / 5, mode="valid")
        pts = np.stack([width / 2 + (width / 2 - 1) * radius * np.cos(angles),
                        height / 2 + (height / 2 - 1) * radius * np.sin(angles)], axis=1)
        cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 255, cv2.LINE_AA)
    else:
        mask[:] = 255
    # Touch all four sides so the tight box of the mask is the whole sprite.
    ys, xs = np.nonzero(mask > 127)
    if len(xs) == 0:
        mask[:] = 255
    return cv2.GaussianBlur(mask, (0, 0), 0.8).astype(np.float32) / 255.0


@dataclass
class Sprite:
    """An RGB patch with an alpha mask and the mask's outline (for exact boxes)."""

    rgb: np.ndarray  # float32 HxWx3, 0..255
    alpha: np.ndarray  # float32 HxW, 0..1
    outline: np.ndarray  # float32 Kx2 points (x, y) of the alpha > 0.5 region's boundary

    @property
    def rgba(self) -> np.ndarray:
        """float32 HxWx4 (alpha scaled to 0..255), built once: every frame pastes it."""
        cached = self.__dict__.get("_rgba")
        if cached is None:
            cached = np.dstack([self.rgb, self.alpha * 255.0]).astype(np.float32)
            self.__dict__["_rgba"] = cached
        return cached

    @staticmethod
    def cut(rng: np.random.Generator, photo: np.ndarray, size: int, aspect: float) -> "Sprite":
        h_img, w_img = photo.shape[:2]
        w = int(np.clip(round(size * math.sqrt(aspect)), 8, w_img))
        h = int(np.clip(round(size / math.sqrt(aspect)), 8, h_img))
        x0 = int(rng.integers(0, w_img - w + 1))
        y0 = int(rng.integers(0, h_img - h + 1))
        rgb = photo[y0:y0 + h, x0:x0 + w].astype(np.float32)
        return Sprite.from_arrays(rgb, _random_mask(rng, h, w))

    @staticmethod
    def from_arrays(rgb: np.ndarray, alpha: np.ndarray) -> "Sprite":
        binary = (alpha > 0.5).astype(np.uint8)
        contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        if contours:
            pts = np.concatenate([c.reshape(-1, 2) for c in contours]).astype(np.float32)
        else:
            pts = np.array([[0, 0], [alpha.shape[1] - 1, alpha.shape[0] - 1]], np.float32)
        # Pixel i covers [i, i+1): the outline's extreme pixels extend to their far edges.
        outline = np.concatenate([pts, pts + np.array([1.0, 0.0], np.float32), pts + np.array([0.0, 1.0], np.float32),
                                  pts + 1.0])
        # An affine map keeps the convex hull's extremes the shape's extremes, so the hull (tens of
        # points instead of thousands) gives the same tight box for every frame, much faster.
        outline = cv2.convexHull(outline).reshape(-1, 2).astype(np.float32)
        return Sprite(rgb=rgb, alpha=alpha, outline=outline)

    def recoloured(self, rng: np.random.Generator) -> "Sprite":
        """A look-alike: same shape and texture, slightly different colour and brightness."""
        gain = rng.uniform(0.75, 1.25, 3).astype(np.float32)
        return Sprite(rgb=np.clip(self.rgb * gain + rng.uniform(-20, 20), 0, 255), alpha=self.alpha,
                      outline=self.outline)


@dataclass
class Track:
    """Per-frame pose of a sprite: centre (frame px), scale (frame px per sprite px), aspect, angle."""

    cx: np.ndarray
    cy: np.ndarray
    scale: np.ndarray
    aspect: np.ndarray
    angle_deg: np.ndarray

    def matrix(self, i: int) -> np.ndarray:
        """2x3 affine from sprite pixel coords (origin at the sprite centre) to frame coords."""
        a = math.radians(float(self.angle_deg[i]))
        sx = float(self.scale[i] * math.sqrt(self.aspect[i]))
        sy = float(self.scale[i] / math.sqrt(self.aspect[i]))
        c, s = math.cos(a), math.sin(a)
        return np.array([[c * sx, -s * sy, float(self.cx[i])], [s * sx, c * sy, float(self.cy[i])]], np.float64)


def _make_track(rng: np.random.Generator, cfg: SynthConfig, length: int, base_scale: float, sprite_size: float,
                start: Tuple[float, float], speed: float, rotation: float, scale_change: float,
                aspect_change: float, keep_inside: bool) -> Track:
    target_px = base_scale * sprite_size
    # Velocity = smooth random curve; position = its integral, so speed changes smoothly.
    smooth = rng.uniform(4, 15)
    vx = _smooth_curve(rng, length, smooth) * speed * target_px + rng.uniform(-0.5, 0.5) * speed * target_px
    vy = _smooth_curve(rng, length, smooth) * speed * target_px + rng.uniform(-0.5, 0.5) * speed * target_px
    cx = start[0] + np.cumsum(vx) - vx[0]
    cy = start[1] + np.cumsum(vy) - vy[0]
    # Reflect at a margin: inside the frame, or -- for sequences where the target may leave --
    # just beyond it, so the target goes out of view for a while and comes back.
    margin = 0.3 * target_px if keep_inside else -0.8 * target_px
    cx = _reflect(cx, margin, cfg.width - margin)
    cy = _reflect(cy, margin, cfg.height - margin)
    scale = base_scale * np.exp(scale_change * _smooth_curve(rng, length, rng.uniform(10, 30)))
    aspect = np.exp(aspect_change * _smooth_curve(rng, length, rng.uniform(10, 30)))
    angle = rotation * _smooth_curve(rng, length, rng.uniform(8, 25))
    return Track(cx=cx, cy=cy, scale=scale, aspect=aspect, angle_deg=angle)


def _reflect(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    if hi <= lo:
        return np.full_like(x, (lo + hi) / 2)
    span = hi - lo
    y = np.mod(x - lo, 2 * span)
    return lo + np.where(y > span, 2 * span - y, y)


def cover_level(visible_fraction: float) -> int:
    """GOT-10k cover label from the visible fraction: 0 hidden, 1..7 in 15% steps, 8 fully visible."""
    if visible_fraction <= 0.0:
        return 0
    if visible_fraction >= 0.999:
        return 8
    return int(min(7, 1 + math.floor(visible_fraction / 0.15 - 1e-9)))


@dataclass
class SyntheticSequence:
    """One generated sequence. `boxes`, `visible`, `cover`, `absent` are per frame; `frame(i)` renders."""

    config: SynthConfig
    seed: int
    background: np.ndarray
    camera: np.ndarray  # [L, 2, 3] affine from frame coords to background coords
    target: Sprite
    target_track: Track
    distractors: List[Tuple[Sprite, Track]]
    occluders: List[Tuple[Sprite, Track]]
    gain: np.ndarray  # [L, 3] illumination per channel
    bias: np.ndarray  # [L]
    blur_sigma: np.ndarray  # [L] defocus
    motion_blur: bool
    noise_sigma: float
    boxes: np.ndarray = field(default=None)  # [L, 4] x, y, w, h
    visible: np.ndarray = field(default=None)  # [L] fraction of the target's area visible in frame
    cover: np.ndarray = field(default=None)
    absent: np.ndarray = field(default=None)

    def __len__(self) -> int:
        return self.config.length

    @staticmethod
    def generate(library: PhotoLibrary, seed: int, config: SynthConfig = SynthConfig()) -> "SyntheticSequence":
        """Draw every random choice of a sequence from `seed` (photos come from `library`)."""
        rng = np.random.default_rng(seed)
        cfg = config
        length, width, height = cfg.length, cfg.width, cfg.height
        n_photos = len(library.images)
        picks = rng.permutation(n_photos)
        bg_photo = library.images[int(picks[0])]
        target_photo = library.images[int(picks[1 % n_photos])]
        occluder_photo = library.images[int(picks[2 % n_photos])]

        # Background: the camera looks at a window of the photo that pans and zooms smoothly.
        background = bg_photo
        bh, bw = background.shape[:2]
        base_zoom = max(width / bw, height / bh) * rng.uniform(1.0, 1.6)  # frame px per bg px
        moving = rng.random() < cfg.p_camera_motion
        zoom = base_zoom * np.exp((0.15 if moving else 0.0) * _smooth_curve(rng, length, 20))
        win_w, win_h = width / zoom, height / zoom
        pan_x = _smooth_curve(rng, length, 20) * (0.15 * bw if moving else 0.0)
        pan_y = _smooth_curve(rng, length, 20) * (0.15 * bh if moving else 0.0)
        cx0 = rng.uniform(win_w[0] / 2, max(win_w[0] / 2, bw - win_w[0] / 2))
        cy0 = rng.uniform(win_h[0] / 2, max(win_h[0] / 2, bh - win_h[0] / 2))
        cam_cx = np.clip(cx0 + pan_x, win_w / 2, np.maximum(win_w / 2, bw - win_w / 2))
        cam_cy = np.clip(cy0 + pan_y, win_h / 2, np.maximum(win_h / 2, bh - win_h / 2))
        camera = np.zeros((length, 2, 3))
        camera[:, 0, 0] = 1 / zoom
        camera[:, 1, 1] = 1 / zoom
        camera[:, 0, 2] = cam_cx - win_w / 2
        camera[:, 1, 2] = cam_cy - win_h / 2

        # Target.
        min_side = min(width, height)
        target_px = min_side * math.exp(rng.uniform(math.log(cfg.target_min), math.log(cfg.target_max)))
        th, tw = target_photo.shape[:2]
        sprite_size = float(min(rng.uniform(48, 160), 0.9 * min(th, tw)))
        target = Sprite.cut(rng, target_photo, int(sprite_size), math.exp(rng.uniform(-0.8, 0.8)))
        sprite_size = math.sqrt(target.alpha.shape[0] * target.alpha.shape[1])
        base_scale = target_px / sprite_size
        leave = rng.random() < cfg.p_leave_frame
        speed = cfg.speed_max * rng.uniform(0.05, 1.0) ** 1.5
        rotation = cfg.rotation_max_deg * rng.random() if rng.random() < cfg.p_rotation else 0.0
        start = (rng.uniform(0.3, 0.7) * width, rng.uniform(0.3, 0.7) * height)
        target_track = _make_track(rng, cfg, length, base_scale, sprite_size, start, speed * (3 if leave else 1),
                                   rotation, cfg.scale_change * rng.random(), cfg.aspect_change * rng.random(),
                                   keep_inside=not leave)

        distractors: List[Tuple[Sprite, Track]] = []
        if rng.random() < cfg.p_distractors:
            for _ in range(int(rng.integers(1, cfg.max_distractors + 1))):
                look = target.recoloured(rng) if rng.random() < 0.7 else Sprite.cut(
                    rng, target_photo, int(sprite_size), math.exp(rng.uniform(-0.8, 0.8)))
                d_start = (rng.uniform(0.1, 0.9) * width, rng.uniform(0.1, 0.9) * height)
                d_size = math.sqrt(look.alpha.shape[0] * look.alpha.shape[1])
                distractors.append((look, _make_track(rng, cfg, length, base_scale * rng.uniform(0.7, 1.3), d_size,
                                                      d_start, speed * rng.uniform(0.5, 1.5), rotation,
                                                      cfg.scale_change * rng.random(), cfg.aspect_change * rng.random(),
                                                      keep_inside=True)))

        occluders: List[Tuple[Sprite, Track]] = []
        if rng.random() < cfg.p_occluder:
            full = rng.random() < cfg.p_full_occlusion
            occ_scale = rng.uniform(1.6, 2.5) if full else rng.uniform(0.4, 1.0)
            oh, ow = occluder_photo.shape[:2]
            occ_sprite_size = float(min(rng.uniform(48, 160), 0.9 * min(oh, ow)))
            occ = Sprite.cut(rng, occluder_photo, int(occ_sprite_size), math.exp(rng.uniform(-0.5, 0.5)))
            occ_size = math.sqrt(occ.alpha.shape[0] * occ.alpha.shape[1])
            # Aim the occluder so it crosses the target's path around a random middle frame.
            meet = int(rng.integers(length // 5, max(length // 5 + 1, 4 * length // 5)))
            duration = max(8.0, length * rng.uniform(0.15, 0.4))
            direction = rng.uniform(0, 2 * math.pi)
            travel = (occ_scale * target_px + target_px) * 1.5
            t = np.arange(length, dtype=np.float64)
            offset = (t - meet) / duration * travel
            o_scale = np.full(length, occ_scale * target_px / occ_size)
            occluders.append((occ, Track(cx=target_track.cx[meet] + offset * math.cos(direction),
                                         cy=target_track.cy[meet] + offset * math.sin(direction), scale=o_scale,
                                         aspect=np.ones(length), angle_deg=np.zeros(length))))

        if rng.random() < cfg.p_illumination:
            gain = np.exp(0.35 * np.stack([_smooth_curve(rng, length, 25) for _ in range(3)], 1) * rng.random()
                          + 0.3 * _smooth_curve(rng, length, 25)[:, None])
            bias = 25.0 * _smooth_curve(rng, length, 25) * rng.random()
        else:
            gain = np.ones((length, 3))
            bias = np.zeros(length)
        blur = np.zeros(length)
        if rng.random() < cfg.p_defocus:
            blur = np.clip(1.8 * np.abs(_smooth_curve(rng, length, 15)) - 0.3, 0, None)
        seq = SyntheticSequence(config=cfg, seed=seed, background=background, camera=camera, target=target,
                                target_track=target_track, distractors=distractors, occluders=occluders, gain=gain,
                                bias=bias, blur_sigma=blur, motion_blur=bool(rng.random() < cfg.p_motion_blur),
                                noise_sigma=float(rng.uniform(0, cfg.noise_sigma_max)))
        seq._annotate()
        return seq

    # -- ground truth -------------------------------------------------------------------------

    def _sprite_quad(self, sprite: Sprite, track: Track, i: int) -> np.ndarray:
        m = track.matrix(i)
        h, w = sprite.alpha.shape
        pts = sprite.outline - np.array([w / 2, h / 2], np.float32)
        return pts @ m[:, :2].T.astype(np.float32) + m[:, 2].astype(np.float32)

    def _annotate(self) -> None:
        cfg = self.config
        boxes = np.zeros((cfg.length, 4))
        visible = np.zeros(cfg.length)
        for i in range(cfg.length):
            pts = self._sprite_quad(self.target, self.target_track, i)
            x1, y1 = pts.min(0)
            x2, y2 = pts.max(0)
            cx1, cy1 = max(0.0, float(x1)), max(0.0, float(y1))
            cx2, cy2 = min(float(cfg.width), float(x2)), min(float(cfg.height), float(y2))
            if cx2 - cx1 < 1.0 or cy2 - cy1 < 1.0:
                boxes[i] = [x1, y1, x2 - x1, y2 - y1]
                visible[i] = 0.0
                continue
            boxes[i] = [cx1, cy1, cx2 - cx1, cy2 - cy1]
            inside = x1 >= 0 and y1 >= 0 and x2 <= cfg.width and y2 <= cfg.height
            # Rendering masks is the slow part of generation: skip it when nothing can hide the target.
            visible[i] = 1.0 if inside and not self._occluder_near(i, pts) else self._visible_fraction(i)
        self.boxes = boxes
        self.visible = visible
        self.cover = np.array([cover_level(v) for v in visible], np.int64)
        self.absent = (self.cover == 0).astype(np.int64)

    def _occluder_near(self, i: int, target_pts: np.ndarray) -> bool:
        lo, hi = target_pts.min(0), target_pts.max(0)
        for occ, track in self.occluders:
            pts = self._sprite_quad(occ, track, i)
            if (pts.min(0) < hi).all() and (pts.max(0) > lo).all():
                return True
        return False

    def _visible_fraction(self, i: int) -> float:
        """Target pixels inside the frame and not under an occluder, over all target pixels."""
        full = self._render_alpha(self.target, self.target_track, i, clip=False)
        total = float(full[0].sum())
        if total <= 0:
            return 0.0
        alpha, (ox, oy) = self._render_alpha(self.target, self.target_track, i, clip=True)
        if alpha.size == 0:
            return 0.0
        hidden = np.zeros_like(alpha)
        for occ, track in self.occluders:
            m = track.matrix(i).copy()
            m[:, 2] -= (ox, oy)
            oh, ow = occ.alpha.shape
            m = m @ np.array([[1, 0, -ow / 2], [0, 1, -oh / 2], [0, 0, 1]], np.float64)
            occ_alpha = cv2.warpAffine(occ.alpha, m, (alpha.shape[1], alpha.shape[0]), flags=cv2.INTER_LINEAR,
                                       borderMode=cv2.BORDER_CONSTANT)
            hidden = np.maximum(hidden, occ_alpha)
        seen = float((alpha * (1.0 - hidden)).sum()) / total
        return float(np.clip(seen, 0.0, 1.0))

    def _render_alpha(self, sprite: Sprite, track: Track, i: int, clip: bool) -> Tuple[np.ndarray, Tuple[int, int]]:
        """Sprite alpha warped into the integer box around it (optionally clipped to the frame)."""
        pts = self._sprite_quad(sprite, track, i)
        x1, y1 = np.floor(pts.min(0)).astype(int)
        x2, y2 = np.ceil(pts.max(0)).astype(int)
        if clip:
            x1, y1 = max(x1, 0), max(y1, 0)
            x2, y2 = min(x2, self.config.width), min(y2, self.config.height)
        if x2 <= x1 or y2 <= y1:
            return np.zeros((0, 0), np.float32), (int(x1), int(y1))
        m = track.matrix(i).copy()
        h, w = sprite.alpha.shape
        m = m @ np.array([[1, 0, -w / 2], [0, 1, -h / 2], [0, 0, 1]], np.float64)
        m[:, 2] -= (x1, y1)
        out = cv2.warpAffine(sprite.alpha, m, (int(x2 - x1), int(y2 - y1)), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_CONSTANT)
        return out, (int(x1), int(y1))

    # -- pixels -------------------------------------------------------------------------------

    def _paste(self, canvas: np.ndarray, sprite: Sprite, track: Track, i: int, view: np.ndarray,
               scale: float) -> None:
        """Alpha-blend `sprite` at its pose in frame i; `view` maps frame to canvas pixels."""
        out_h, out_w = canvas.shape[:2]
        h, w = sprite.alpha.shape
        m = _compose(view, track.matrix(i) @ np.array([[1, 0, -w / 2], [0, 1, -h / 2], [0, 0, 1]], np.float64))
        pts = sprite.outline @ m[:, :2].T + m[:, 2]
        x1, y1 = np.floor(pts.min(0)).astype(int) - 2
        x2, y2 = np.ceil(pts.max(0)).astype(int) + 2
        x1, y1 = max(int(x1), 0), max(int(y1), 0)
        x2, y2 = min(int(x2), out_w), min(int(y2), out_h)
        if x2 <= x1 or y2 <= y1:
            return
        m[:, 2] -= (x1, y1)
        warped = cv2.warpAffine(sprite.rgba, m, (x2 - x1, y2 - y1), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_CONSTANT)
        if self.motion_blur and 0 < i:
            dx = float(track.cx[i] - track.cx[i - 1]) * scale
            dy = float(track.cy[i] - track.cy[i - 1]) * scale
            warped = _motion_blur(warped, dx, dy)
        a = warped[..., 3:4] * np.float32(1.0 / 255.0)
        roi = canvas[y1:y2, x1:x2]
        roi *= 1.0 - a
        roi += warped[..., :3] * a

    def _render(self, i: int, view: np.ndarray, out_w: int, out_h: int, scale: float) -> np.ndarray:
        """Frame i seen through `view` (2x3, frame pixel index -> output pixel index), float32."""
        cfg = self.config
        if not 0 <= i < cfg.length:
            raise IndexError(f"Expected a frame index in [0, {cfg.length}) but received {i}")
        # Output pixel -> background pixel = camera(frame <- output).
        to_background = _compose(self.camera[i], _invert(view))
        canvas = cv2.warpAffine(self.background, to_background, (out_w, out_h),
                                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT101)
        canvas = canvas.astype(np.float32)
        for sprite, track in self.distractors:
            self._paste(canvas, sprite, track, i, view, scale)
        self._paste(canvas, self.target, self.target_track, i, view, scale)
        for sprite, track in self.occluders:
            self._paste(canvas, sprite, track, i, view, scale)
        canvas = canvas * self.gain[i].astype(np.float32) + np.float32(self.bias[i])
        if self.blur_sigma[i] * scale > 0.05:
            canvas = cv2.GaussianBlur(canvas, (0, 0), float(self.blur_sigma[i] * scale))
        if self.noise_sigma > 0:
            # cv2's generator is ~10x faster than numpy's here; reseeding per frame keeps frames
            # independent of render order (each DataLoader worker process has its own state).
            cv2.setRNGSeed((self.seed * 1000003 + i) & 0x7FFFFFFF)
            noise = np.empty_like(canvas)
            cv2.randn(noise, 0.0, float(self.noise_sigma))
            canvas += noise
        return np.clip(canvas, 0, 255, out=canvas)

    def frame(self, i: int) -> np.ndarray:
        """Frame i as uint8 RGB [height, width, 3]."""
        cfg = self.config
        identity = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        return self._render(i, identity, cfg.width, cfg.height, 1.0).astype(np.uint8)

    def crop(self, i: int, x0: int, y0: int, side: int, out: int) -> np.ndarray:
        """uint8 [out, out, 3]: what `augment.crop_image(frame(i), x0, y0, side, out)` shows.

        Rendered straight at the crop's resolution (no full frame), with the part outside
        the frame black as the tracker's zero padding; this is what makes on-the-fly data
        cheap. Pixel o of the output samples frame index x0 + (o + 0.5) side/out - 0.5, the
        half-pixel-centre convention of cv2.resize.
        """
        cfg = self.config
        s = out / side
        view = np.array([[s, 0.0, s * (0.5 - x0) - 0.5], [0.0, s, s * (0.5 - y0) - 0.5]])
        canvas = self._render(i, view, out, out, s)
        inside = cv2.warpAffine(np.ones((cfg.height, cfg.width), np.float32), view, (out, out), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_CONSTANT)
        return (canvas * inside[..., None]).astype(np.uint8)


def _compose(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """2x3 affine a after b."""
    return a[:, :2] @ b[:, :] + np.array([[0, 0, a[0, 2]], [0, 0, a[1, 2]]])


def _invert(m: np.ndarray) -> np.ndarray:
    return cv2.invertAffineTransform(m.astype(np.float64))


def _motion_blur(rgba: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """Blur along the displacement of the last frame (a moving object under a finite shutter)."""
    length = int(min(15, round(math.hypot(dx, dy) * 0.5)))
    if length < 2:
        return rgba
    kernel = np.zeros((length, length), np.float32)
    c = (length - 1) / 2
    ux, uy = dx / math.hypot(dx, dy), dy / math.hypot(dx, dy)
    cv2.line(kernel, (int(round(c - ux * c)), int(round(c - uy * c))), (int(round(c + ux * c)), int(round(c + uy * c))),
             1.0, 1)
    kernel /= max(float(kernel.sum()), 1e-6)
    return cv2.filter2D(rgba, -1, kernel, borderType=cv2.BORDER_CONSTANT)


def generate_sequence(library: PhotoLibrary, seed: int, config: Optional[SynthConfig] = None) -> SyntheticSequence:
    """Shorthand for `SyntheticSequence.generate`."""
    return SyntheticSequence.generate(library, seed, config or SynthConfig())
