"""The trust domain's verbs: reviews (``trust.services.reviews``), disputes and the compensation ledger
(``trust.services.disputes``). Code outside ``trust/`` reaches the domain through this package."""

from trust.services.disputes import *  # noqa: F403 - disputes (trust/services/disputes.py __all__)
from trust.services.integrity import *  # noqa: F403 - the integrity score (trust/services/integrity.py __all__)
from trust.services.ledger import *  # noqa: F403 - the compensation ledger and figures (ledger.py __all__)
from trust.services.moderation import *  # noqa: F403 - the operator's console (moderation.py __all__)
from trust.services.reviews import *  # noqa: F403 - the reviews verbs (trust/services/reviews.py __all__)
