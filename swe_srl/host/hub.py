"""Models from the Hugging Face hub, downloaded before they are loaded, with the hub's own progress bars.

The CLI turns the hub's and transformers' progress bars off, since they would interleave with its
own. A first run of a 7B preset downloads ~15 GB, so the download itself shows its bars (on the
main process), and nothing else does; a user's HF_HUB_DISABLE_PROGRESS_BARS=1 still wins.
"""

from __future__ import annotations

from swe_srl.errors import ConfigError


def hub_snapshot(repo_id: str, *, show_progress: bool = True) -> str:
    """The local folder of ``repo_id``'s files, downloaded (or found in the hub's cache) first."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError
    from huggingface_hub.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    was_off = are_progress_bars_disabled()
    if show_progress:
        enable_progress_bars()
    try:
        return snapshot_download(repo_id)
    except (LocalEntryNotFoundError, HfHubHTTPError, ValueError) as err:
        raise ConfigError(f"model '{repo_id}': not a local folder, and the hub cannot give it ({err}); check the "
                          "name, the network, or HF_HUB_OFFLINE") from None
    finally:
        if was_off:
            disable_progress_bars()
