from memberkit import make_member

__all__ = ["make_member"]
