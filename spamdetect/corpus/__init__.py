"""The labeled corpus: real legitimate pages plus farm pages simulated on top of them.

- ``legit``: the real pages (manifest reader);
- ``story``: what a farm scrapes from a real page (``Story``), and the one parser/serialiser used for all documents;
- ``fakes``, ``phrases``: seeded generators and multilingual boilerplate;
- ``operations``: farm operations on a BeautifulSoup document (``OPERATIONS``);
- ``hard_negatives``: legitimate look-alike augmentations (label 0);
- ``templates``: farm families (skeletons, theme clones, in-place farms) -> ``make_farm``, ``make_legit_aug``;
- ``build``: ``build_corpus`` / ``save_corpus`` / ``load_corpus`` / ``fingerprint``;
- ``splits``: ``leave_one_family_out``, ``by_source``, ``standard``.
"""
