"""H0EUASP0: KRX night option real-time quote, 5 levels (38 fields).

From the KIS API page [실시간-033] KRX야간옵션 실시간호가.

Field names and order are exactly the page's; the types are ours.
Empty levels come as 0.00 with zero counts (PROTOCOL.md).
"""

from ..spec import TrKind, TrSpec, parse_table, register

FIELDS = parse_table(
    """
OPTN_SHRN_ISCD              code             옵션단축종목코드
BSOP_HOUR                   time             영업시간
OPTN_ASKP1                  price            옵션매도호가1
OPTN_ASKP2                  price            옵션매도호가2
OPTN_ASKP3                  price            옵션매도호가3
OPTN_ASKP4                  price            옵션매도호가4
OPTN_ASKP5                  price            옵션매도호가5
OPTN_BIDP1                  price            옵션매수호가1
OPTN_BIDP2                  price            옵션매수호가2
OPTN_BIDP3                  price            옵션매수호가3
OPTN_BIDP4                  price            옵션매수호가4
OPTN_BIDP5                  price            옵션매수호가5
ASKP_CSNU1                  quantity         매도호가건수1
ASKP_CSNU2                  quantity         매도호가건수2
ASKP_CSNU3                  quantity         매도호가건수3
ASKP_CSNU4                  quantity         매도호가건수4
ASKP_CSNU5                  quantity         매도호가건수5
BIDP_CSNU1                  quantity         매수호가건수1
BIDP_CSNU2                  quantity         매수호가건수2
BIDP_CSNU3                  quantity         매수호가건수3
BIDP_CSNU4                  quantity         매수호가건수4
BIDP_CSNU5                  quantity         매수호가건수5
ASKP_RSQN1                  quantity         매도호가잔량1
ASKP_RSQN2                  quantity         매도호가잔량2
ASKP_RSQN3                  quantity         매도호가잔량3
ASKP_RSQN4                  quantity         매도호가잔량4
ASKP_RSQN5                  quantity         매도호가잔량5
BIDP_RSQN1                  quantity         매수호가잔량1
BIDP_RSQN2                  quantity         매수호가잔량2
BIDP_RSQN3                  quantity         매수호가잔량3
BIDP_RSQN4                  quantity         매수호가잔량4
BIDP_RSQN5                  quantity         매수호가잔량5
TOTAL_ASKP_CSNU             quantity         총매도호가건수
TOTAL_BIDP_CSNU             quantity         총매수호가건수
TOTAL_ASKP_RSQN             quantity         총매도호가잔량
TOTAL_BIDP_RSQN             quantity         총매수호가잔량
TOTAL_ASKP_RSQN_ICDC        quantity_change  총매도호가잔량증감
TOTAL_BIDP_RSQN_ICDC        quantity_change  총매수호가잔량증감
"""
)

SPEC = register(
    TrSpec(
        tr_id="H0EUASP0",
        title="KRX night option real-time quote, 5 levels",
        kind=TrKind.QUOTE,
        fields=FIELDS,
        filtered=True,
        key_width=(9, 12),
    )
)
