"""Fire drills: named incidents the demo world starts on its running member.

A drill breaks the member through the emulators' own mechanisms (pods, node conditions,
API answers, SSH), so the console, ``binderctl status``, kubectl and hcloud clients all
see the same incident. The world then keeps the score: when the fault started, when
binderctl's own status judgement first named it, and when it was resolved and by which
audited actions.
"""
