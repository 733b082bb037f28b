"""waves"""
