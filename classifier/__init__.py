"""Pure functions of text: topics, sentiment, reliability and the misinformation-risk score.

Public API: :class:`classifier.service.Classifier` (load once, classify many).
"""
