"""Report branding files: a client's logo is a PNG or JPEG image inside the workspace.

An agency keeps its clients' workspaces side by side, so a logo path such as ``../clientB/notes.toml`` must
not carry another client's file into this client's report. A logo path (relative to the workspace
directory, or absolute) is therefore resolved, symbolic links followed, and must lead into the workspace
directory or the folder named by ``branding_dir`` in ``trueroi.toml``. The file must be a regular file of at
most :data:`MAX_LOGO_BYTES` holding a PNG or JPEG image, decided by its content (its first bytes, then a
full decode), never by its name; at most :data:`MAX_LOGO_PIXELS` pixels. Anything else is one
:class:`~trueroi.errors.ConfigError` naming the logo, its owner and the problem, before any page is made;
the renderers read the image once through :func:`read_logo` and embed those checked bytes.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from trueroi.errors import ConfigError
from trueroi.workspace import Workspace
from trueroi.workspace.config import Branding

MAX_LOGO_BYTES = 2 * 1024 * 1024
MAX_LOGO_PIXELS = 4096 * 4096
SIGNATURES = {b"\x89PNG\r\n\x1a\n": ("PNG", "image/png"), b"\xff\xd8\xff": ("JPEG", "image/jpeg")}


@dataclass(frozen=True)
class Logo:
    """A checked logo: its file, MIME type (``image/png`` or ``image/jpeg``), bytes and size in pixels."""

    path: Path
    mime: str
    data: bytes
    width: int
    height: int


def logo_folders(ws: Workspace) -> list[Path]:
    """Where logos may lie: the workspace directory and, when set, its ``branding_dir`` (resolved)."""
    root = Path(ws.path).resolve()
    folders = [root]
    if ws.config.branding_dir:
        folders.append((root / Path(ws.config.branding_dir).expanduser()).resolve())
    return folders


def find_logo(ws: Workspace, branding: Branding, owner: str) -> Path | None:
    """The checked logo file of ``branding`` (None when it names none); ``owner`` names it in errors.

    Raises
    ------
    ConfigError
        When the logo lies outside the workspace and ``branding_dir``, is missing, or is not a PNG or JPEG
        image within the limits.
    """
    if not branding.logo:
        return None
    given = Path(branding.logo).expanduser()
    path = (given if given.is_absolute() else Path(ws.path) / given).resolve()
    folders = logo_folders(ws)
    if not any(path.is_relative_to(folder) for folder in folders):
        allowed = " or ".join(str(f) for f in folders)
        raise ConfigError(
            f"branding logo {branding.logo!r} of {owner} is outside the workspace ({path} is not in "
            f"{allowed}); put the logo in the workspace folder, or name a shared logo folder in branding_dir"
        )
    if not path.exists():
        raise ConfigError(
            f"branding logo {branding.logo!r} of {owner} not found at {path}; give a PNG or JPEG path "
            "relative to the workspace directory"
        )
    read_logo(path, name=f"branding logo {branding.logo!r} of {owner}")
    return path


def read_logo(path: str | Path, *, name: str | None = None) -> Logo:
    """Read and check a logo file: a regular file, at most :data:`MAX_LOGO_BYTES`, a PNG or JPEG image.

    ``name`` says which logo it is in errors (default: the path).

    Raises
    ------
    ConfigError
        When the file cannot be read or is not such an image.
    """
    path = Path(path)
    name = name or f"logo {str(path)!r}"
    if not path.is_file():
        raise ConfigError(f"{name} ({path}) is not a regular file")
    size = path.stat().st_size
    if size > MAX_LOGO_BYTES:
        raise ConfigError(
            f"{name} ({path}) is {size / 1e6:.1f} MB; a logo may be at most {MAX_LOGO_BYTES / 1e6:.1f} MB"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{name} ({path}) cannot be read ({exc.strerror or exc})") from exc
    kind = next((k for magic, k in SIGNATURES.items() if data.startswith(magic)), None)
    if kind is None:
        raise ConfigError(f"{name} ({path}) is not a PNG or JPEG image (judged by its content, not its name)")
    width, height = _decode(data, kind[0], f"{name} ({path})")
    return Logo(path, kind[1], data, width, height)


def _decode(data: bytes, kind: str, where: str) -> tuple[int, int]:
    """Decode the whole image once (a damaged file fails here, not in a renderer); its size in pixels."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[kind]) as image:
                width, height = image.size
                if width * height > MAX_LOGO_PIXELS:
                    raise ConfigError(
                        f"{where} is {width} x {height} pixels; a logo may have at most "
                        f"{MAX_LOGO_PIXELS:,} pixels"
                    )
                image.load()
    except ConfigError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise ConfigError(f"{where} has too many pixels for a logo ({exc})") from exc
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError) as exc:
        raise ConfigError(f"{where} is a damaged {kind} image ({exc})") from exc
    return width, height
