"""``python -m devstack.idp --port N --state-dir DIR``: the provider as a process of the local stack."""

from devstack.idp.provider import main

main()
