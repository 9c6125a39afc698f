"""What the dropout course derives, packaged for the notebooks that come after."""

import types

from .data import *  # noqa: F403
from .dropout import *  # noqa: F403
from .ensemble import *  # noqa: F403
from .experiments import *  # noqa: F403
from .fast_dropout import *  # noqa: F403
from .models import *  # noqa: F403
from .plotting import *  # noqa: F403
from .training import *  # noqa: F403
from .variants import *  # noqa: F403

# The public names each module lists in its __all__ (a star import binds the module itself too).
__all__ = [name for name, value in globals().items()
           if not name.startswith('_') and not isinstance(value, types.ModuleType)]
