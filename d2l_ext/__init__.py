"""What the dropout course derives, packaged for the notebooks that come after.

Each module lists its public names in its `__all__`; the package exports all of them.
"""

from . import (
    data,
    dropout,
    ensemble,
    experiments,
    fast_dropout,
    models,
    plotting,
    training,
    variants,
)
from .data import *  # noqa: F403
from .dropout import *  # noqa: F403
from .ensemble import *  # noqa: F403
from .experiments import *  # noqa: F403
from .fast_dropout import *  # noqa: F403
from .models import *  # noqa: F403
from .plotting import *  # noqa: F403
from .training import *  # noqa: F403
from .variants import *  # noqa: F403

__all__ = [name for module in (data, dropout, ensemble, experiments, fast_dropout, models,
                               plotting, training, variants) for name in module.__all__]
