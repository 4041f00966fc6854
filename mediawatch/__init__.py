"""mediawatch: media monitoring and misinformation flagging for Lâm Đồng province."""

__version__ = "0.1.0"
