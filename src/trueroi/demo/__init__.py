"""The demo shop: a simulated online shop with known true channel effects (``trueroi demo``).

``generate`` writes the canonical tables as Parquet plus ``ground_truth.json``; ``load_into`` loads them
into a workspace; ``demo_config`` is the workspace configuration that matches the shop.
"""

from trueroi.demo.generator import DemoFiles, generate
from trueroi.demo.load import demo_config, load_into

__all__ = ["DemoFiles", "demo_config", "generate", "load_into"]
