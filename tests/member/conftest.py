from tests.member.memberkit import make_member, running

__all__ = ["make_member", "running"]
