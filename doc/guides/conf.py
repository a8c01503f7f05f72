# SPDX-License-Identifier: BSD-3-Clause
# Sphinx configuration for the dpntp guides and man pages.
#
#   sphinx-build -W -b html doc/guides build/doc/html
#   sphinx-build -W -b man  doc/guides build/doc/man

project = 'dpntp'
copyright = 'the dpntp authors'
author = 'the dpntp authors'
version = '0.1'
release = '0.1.0'

extensions = []
root_doc = 'index'
exclude_patterns = ['_build']
highlight_language = 'none'

html_theme = 'alabaster'

# (source, name, description, authors, section)
man_pages = [
    ('dpntpd', 'dpntpd', 'stratum-1 NTP server on DPDK', [author], 8),
    ('dpntpc', 'dpntpc', 'control client for dpntpd', [author], 8),
]
man_show_urls = False
