"""lang.analysis"""
