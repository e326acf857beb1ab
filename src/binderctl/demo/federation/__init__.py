"""An emulated mybinder.org federation: the redirector and the other members.

``hosts.EmulatedHost`` is a member we do not operate (the prime, another member): it
serves BinderHub's public ``/health`` and ``/versions``. ``redirector.Redirector``
follows ``health_check`` and the routing of jupyterhub/mybinder.org-deploy
``images/federation-redirect/app.py`` and says which hosts are in rotation and why each
is out. ``world.Federation`` puts them together for the demo world.
"""
